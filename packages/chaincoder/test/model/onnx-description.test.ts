/**
 * The ONNX description encoder on a real onnxruntime session: a small
 * embedding + MatMul encoder written as an ONNX graph, and a WordPiece
 * tokenizer.json with a [CLS] … [SEP] template (both from tiny-text-encoder.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, Random } from '@sculpt/core';
import { getCpuDevice, keep, onnx, recordTape, nn as F, type Tensor } from '@sculpt/runtime-gpu';
import { DescriptionProjection, OnnxDescriptionEncoder, poolDescriptionFeatures } from '../../src/model/onnx-description.js';
import { HIDDEN, encoderGraph, expectedState, seededValues, tokenizerJson } from './tiny-text-encoder.js';

describe('OnnxDescriptionEncoder', () => {
  let folder: string;
  let tokenizer: string;
  const encoders: OnnxDescriptionEncoder[] = [];

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'sculpt-onnx-description-'));
    tokenizer = join(folder, 'tokenizer.json');
    await writeFile(tokenizer, JSON.stringify(tokenizerJson()));
  });
  afterAll(async () => {
    for (const encoder of encoders) await encoder.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  async function load(name: string, graph: Uint8Array, maxLength?: number): Promise<OnnxDescriptionEncoder> {
    const model = join(folder, name);
    await writeFile(model, graph);
    const encoder = await OnnxDescriptionEncoder.load({ model, tokenizer, maxLength });
    encoders.push(encoder);
    return encoder;
  }

  it('tokenizes with the template', async () => {
    const encoder = await load('plain.onnx', encoderGraph());
    expect(encoder.tokenize('Read two Numbers')).toEqual([2, 4, 5, 6, 7, 3]);
    expect(encoder.tokenize('read zebras')).toEqual([2, 4, 1, 3]);
  });

  it('encodes a padded batch', async () => {
    const encoder = await load('batch.onnx', encoderGraph());
    expect(encoder.hidden).toBe(HIDDEN);
    const features = await encoder.encode(['Read two numbers', 'print the sum']);
    expect(features.batch).toBe(2);
    expect(features.lengths).toEqual([6, 5]);
    expect(features.length).toBe(6);

    const ids = [
      [2, 4, 5, 6, 7, 3],
      [2, 8, 9, 10, 3],
    ];
    let maxDifference = 0;
    ids.forEach((row, b) => {
      for (let t = 0; t < features.length; t++) {
        const expected = t < row.length ? expectedState(row[t]) : new Float64Array(HIDDEN);
        for (let h = 0; h < HIDDEN; h++) maxDifference = Math.max(maxDifference, Math.abs(features.states[(b * features.length + t) * HIDDEN + h] - expected[h]));
      }
    });
    expect(maxDifference).toBeLessThan(1e-5);

    // Padding a description in a batch leaves its real rows unchanged.
    const alone = await encoder.encode(['print the sum']);
    expect(Array.from(alone.states)).toEqual(Array.from(features.states.subarray(6 * HIDDEN, 6 * HIDDEN + 5 * HIDDEN)));
  });

  it('feeds zero token types', async () => {
    const encoder = await load('types.onnx', encoderGraph({ tokenTypes: true }));
    const features = await encoder.encode(['sum']);
    const expected = expectedState(10, 0, true);
    for (let h = 0; h < HIDDEN; h++) expect(features.states[HIDDEN + h]).toBeCloseTo(expected[h], 5);
  });

  it('pools first, last and mean', async () => {
    const encoder = await load('pool.onnx', encoderGraph());
    const texts = ['Read two numbers', 'and'];
    const features = await encoder.encode(texts);
    const pooled = await encoder.encodePooled(texts, 'first-last-mean');
    expect(Array.from(pooled)).toEqual(Array.from(poolDescriptionFeatures(features, 'first-last-mean')));
    expect(pooled.length).toBe(2 * 3 * HIDDEN);

    // Second description: [CLS] and [SEP] around one word, so last is [SEP] and the mean covers three rows.
    const rows = [2, 11, 3].map((id) => expectedState(id));
    const base = 3 * HIDDEN;
    for (let h = 0; h < HIDDEN; h++) {
      expect(pooled[base + h]).toBeCloseTo(rows[0][h], 5);
      expect(pooled[base + HIDDEN + h]).toBeCloseTo(rows[2][h], 5);
      expect(pooled[base + 2 * HIDDEN + h]).toBeCloseTo((rows[0][h] + rows[1][h] + rows[2][h]) / 3, 5);
    }
  });

  it('pools first, last, max and min', async () => {
    const encoder = await load('pool-extremes.onnx', encoderGraph());
    // The first description is padded by one row of zeros, which max and min must skip.
    const pooled = await encoder.encodePooled(['read two', 'print the sum'], 'first-last-max-min');
    expect(pooled.length).toBe(2 * 4 * HIDDEN);
    const rows = [2, 4, 5, 3].map((id) => expectedState(id));
    for (let h = 0; h < HIDDEN; h++) {
      const column = rows.map((row) => row[h]);
      expect(pooled[h]).toBeCloseTo(rows[0][h], 5);
      expect(pooled[HIDDEN + h]).toBeCloseTo(rows[3][h], 5);
      expect(pooled[2 * HIDDEN + h]).toBeCloseTo(Math.max(...column), 5);
      expect(pooled[3 * HIDDEN + h]).toBeCloseTo(Math.min(...column), 5);
    }
  });

  it('cuts descriptions to maxLength', async () => {
    const encoder = await load('cut.onnx', encoderGraph(), 4);
    // The text's tokens are cut, and [CLS] and [SEP] stay.
    expect(encoder.tokenize('Read two numbers and print the sum')).toEqual([2, 4, 5, 3]);
    expect(encoder.tokenize('sum')).toEqual([2, 10, 3]);
    const features = await encoder.encode(['Read two numbers and print the sum']);
    expect(features.lengths).toEqual([4]);
  });

  it('records file hashes', async () => {
    const encoder = await load('identity.onnx', encoderGraph());
    const identity = await encoder.describe();
    expect(identity.hidden).toBe(HIDDEN);
    expect(identity.modelSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(identity.tokenizerSha256).toMatch(/^[0-9a-f]{64}$/);
    const other = await load('identity-types.onnx', encoderGraph({ tokenTypes: true }));
    expect(other.identity.modelSha256).not.toBe(identity.modelSha256);
  });

  it('rejects wrong input names', async () => {
    const model = join(folder, 'renamed.onnx');
    await writeFile(model, encoderGraph({ inputNames: ['ids', 'mask'] }));
    const error = await OnnxDescriptionEncoder.load({ model, tokenizer }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain(model);
    expect((error as Error).message).toContain('input_ids and attention_mask');
    expect((error as Error).message).toContain('ids (int64');
  });

  it('rejects a missing hidden-state output', async () => {
    const model = join(folder, 'pooled-output.onnx');
    const graph = new onnx.GraphBuilder('pooled');
    const ids = graph.input('input_ids', ['batch', 'tokens'], onnx.OnnxDataType.INT64);
    graph.input('attention_mask', ['batch', 'tokens'], onnx.OnnxDataType.INT64);
    graph.node('Cast', [ids], { to: onnx.OnnxDataType.FLOAT }, ['pooler_output']);
    graph.output('pooler_output', ['batch', 'tokens']);
    await writeFile(model, graph.build());
    const error = await OnnxDescriptionEncoder.load({ model, tokenizer }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('last_hidden_state');
    expect((error as Error).message).toContain('pooler_output');
  });

  it('rejects unreadable files', async () => {
    const missing = join(folder, 'missing.onnx');
    await expect(OnnxDescriptionEncoder.load({ model: missing, tokenizer })).rejects.toThrow(missing);
    const notOnnx = join(folder, 'not-onnx.onnx');
    await writeFile(notOnnx, 'not a model');
    await expect(OnnxDescriptionEncoder.load({ model: notOnnx, tokenizer })).rejects.toThrow(/onnxruntime cannot load/);
    const badTokenizer = join(folder, 'bad-tokenizer.json');
    await writeFile(badTokenizer, '{"version": "1.0"}');
    await writeFile(join(folder, 'ok.onnx'), encoderGraph());
    await expect(OnnxDescriptionEncoder.load({ model: join(folder, 'ok.onnx'), tokenizer: badTokenizer })).rejects.toThrow(/no "model" section/);
  });
});

describe('DescriptionProjection', () => {
  it('trains only the projection', async () => {
    const device = getCpuDevice();
    const projectionLayer = new DescriptionProjection(device, HIDDEN, 4, new Random(7));
    const constants: Tensor[] = [];
    const pooled = seededValues(2 * 3 * HIDDEN, 9);
    for (const [, tensor] of projectionLayer.parameters()) tensor.requiresGrad = true;

    const weight = Float32Array.from(await projectionLayer.params.get('weight').read());
    const projected: Tensor[] = [];
    const { tape, result } = recordTape((recording) => {
      const vectors = projectionLayer.forward(pooled, 2, 3, (values, shape) => {
        const tensor = keep(device.tensor(values, shape));
        constants.push(tensor);
        return tensor;
      });
      for (const vector of vectors) {
        recording.retain(vector);
        projected.push(vector);
      }
      const labels = keep(device.tensor([0, 1], [2], 'i32'));
      constants.push(labels);
      return F.crossEntropy(vectors[2], labels);
    });

    // Vector k of instance i is W · pooled[i, k] (the bias starts at zero).
    for (const [k, vector] of projected.entries()) {
      expect(vector.shape).toEqual([2, 4]);
      const values = await vector.read();
      for (let i = 0; i < 2; i++) {
        for (let o = 0; o < 4; o++) {
          let expected = 0;
          for (let h = 0; h < HIDDEN; h++) expected += weight[o * HIDDEN + h] * pooled[(i * 3 + k) * HIDDEN + h];
          expect(values[i * 4 + o]).toBeCloseTo(expected, 5);
        }
      }
    }
    tape.backward(result);
    const weightGrad = await projectionLayer.params.get('weight').grad!.read();
    expect(weightGrad.length).toBe(4 * HIDDEN);
    expect(weightGrad.some((value) => value !== 0)).toBe(true);
    for (const tensor of constants) {
      expect(tensor.grad).toBeNull();
      tensor.dispose();
    }
    for (const vector of projected) vector.dispose();
    result.dispose();
    projectionLayer.dispose();
  });

  it('rejects mis-sized features', () => {
    const projectionLayer = new DescriptionProjection(getCpuDevice(), HIDDEN, 4, new Random(7));
    expect(() => projectionLayer.forward(new Float32Array(7), 2, 3, () => {
      throw new Error('not reached');
    })).toThrow(InputError);
    projectionLayer.dispose();
  });
});
