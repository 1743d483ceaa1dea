/** Perplexity of a model file on a registered text dataset (WikiText-2 by default). */
import { InputError, type Registry } from '@sculpt/core';
import type { CalibrationDataset, Split, Tokenizer } from '@sculpt/datasets';
import { computePerplexity, getDevice, joinForPerplexity, loadModel, type DeviceRequest, type PerplexityResult } from '@sculpt/runtime-gpu';

/** Tokenizes the evaluation split of `dataset` once (joined with blank lines, BOS first). */
export async function perplexityTokens(registry: Registry, dataset: string, dataDir: string, tokenizer: Tokenizer, split?: Split): Promise<number[]> {
  const created: unknown = await registry.create('dataset', dataset, { dataDir, hub: false });
  const source = created as CalibrationDataset;
  const chosen = split ?? source.splits.evaluation ?? 'test';
  const rows: string[] = [];
  for await (const record of source.records(chosen)) rows.push(source.formatExample(record, 'window'));
  if (rows.length === 0) throw new InputError(`perplexity dataset ${dataset} has no ${chosen} records under ${dataDir}`);
  return tokenizer.encode(joinForPerplexity(rows), { bos: true });
}

/** Perplexity of one model file; with `device`, the blocks run on that device instead of the host path. */
export async function modelPerplexity(
  modelPath: string,
  tokens: number[],
  seqlen: number,
  options: { maxWindows?: number; device?: DeviceRequest } = {},
): Promise<PerplexityResult> {
  const model = await loadModel(modelPath);
  try {
    if (options.device !== undefined) model.useDevice(await getDevice(options.device));
    return await computePerplexity(tokens, seqlen, model.config.vocabSize, (window) => model.forward(window), { maxWindows: options.maxWindows });
  } finally {
    await model.close();
  }
}
