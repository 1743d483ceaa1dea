/** Creates dataset instances from the built-in manifest, the way the registry does. */
import { getLogger } from '@sculpt/core';
import { plugins } from '../src/plugins.js';
import type { CalibrationDataset, DatasetRecord, Split } from '../src/index.js';

export async function createDataset(name: string, options: Record<string, unknown> = {}): Promise<CalibrationDataset> {
  const entry = plugins.find((candidate) => candidate.name === name);
  if (entry === undefined) throw new Error(`no built-in dataset ${name}`);
  const plugin = await entry.load();
  const parsed = plugin.meta.options.parse({ hub: false, ...options });
  return (await plugin.create(parsed, { logger: getLogger(`test:${name}`) })) as CalibrationDataset;
}

export async function firstRecord(dataset: CalibrationDataset, split: Split): Promise<DatasetRecord> {
  for await (const record of dataset.records(split)) return record;
  throw new Error(`${dataset.name} ${split} has no records`);
}

export async function allRecords(dataset: CalibrationDataset, split: Split): Promise<DatasetRecord[]> {
  const records: DatasetRecord[] = [];
  for await (const record of dataset.records(split)) records.push(record);
  return records;
}
