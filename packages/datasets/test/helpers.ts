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

/**
 * Writes a one-frame Zstandard stream with a single raw (uncompressed) block,
 * as the Zstandard format (RFC 8878) defines it: magic number, a single-segment
 * frame header with a 4-byte content size, a 3-byte block header, the bytes.
 */
export function zstdRawFrame(content: Buffer): Buffer {
  if (content.length >= 128 * 1024) throw new RangeError('a raw Zstandard block holds less than 128 KiB');
  const header = Buffer.alloc(4 + 1 + 4 + 3);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0xa0;
  header.writeUInt32LE(content.length, 5);
  const block = (content.length << 3) | 1;
  header[9] = block & 0xff;
  header[10] = (block >> 8) & 0xff;
  header[11] = (block >> 16) & 0xff;
  return Buffer.concat([header, content]);
}
