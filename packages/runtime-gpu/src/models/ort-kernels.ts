/**
 * Kernels backed by onnxruntime-node (MLAS) for the large products of the CPU
 * forward pass: Gemm for linear layers, and batched MatMul + Softmax for
 * whole-sequence attention. Small problems stay on the plain loops of
 * `ops.ts`, because one session call costs tens of microseconds.
 */
import { GraphBuilder } from '../onnx/graph-builder.js';
import { OrtSessionCache } from '../cpu/ort-sessions.js';
import type { ModelConfig } from './config.js';
import { attention, cpuLinear, type AttentionKernel, type LayerCache, type LinearKernel } from './ops.js';

/** Products below this many multiply-adds run on the plain loop (an estimate of where a session call starts to pay off). */
export const ORT_LINEAR_MIN_WORK = 1 << 20;

function gemmGraph(withBias: boolean): Uint8Array {
  const graph = new GraphBuilder(withBias ? 'linear_bias' : 'linear');
  const x = graph.input('x', ['rows', 'in']);
  const w = graph.input('w', ['out', 'in']);
  const inputs = [x, w];
  if (withBias) inputs.push(graph.input('b', ['out']));
  graph.node('Gemm', inputs, { transB: 1 }, ['y']);
  graph.output('y', ['rows', 'out']);
  return graph.build();
}

/** Creates a LinearKernel that sends products of at least `minWork` multiply-adds to onnxruntime. */
export function createOrtLinear(options: { threads?: number; minWork?: number } = {}): LinearKernel & { dispose(): Promise<void> } {
  const sessions = new OrtSessionCache(options.threads ?? 2);
  const minWork = options.minWork ?? ORT_LINEAR_MIN_WORK;
  const kernel = async (x: Float32Array, rows: number, layer: Parameters<LinearKernel>[2]): Promise<Float32Array> => {
    if (rows * layer.inFeatures * layer.outFeatures < minWork) return cpuLinear(x, rows, layer);
    const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = {
      x: { data: x, dims: [rows, layer.inFeatures] },
      w: { data: layer.weight, dims: [layer.outFeatures, layer.inFeatures] },
    };
    if (layer.bias !== undefined) feeds.b = { data: layer.bias, dims: [layer.outFeatures] };
    const key = layer.bias === undefined ? 'models:linear' : 'models:linear_bias';
    const [y] = await sessions.run(key, () => gemmGraph(layer.bias !== undefined), feeds);
    return y;
  };
  return Object.assign(kernel, { dispose: () => sessions.dispose() });
}

/** Whole sequences shorter than this run attention on the plain loop. */
export const ORT_ATTENTION_MIN_ROWS = 64;

function attentionGraph(): Uint8Array {
  const graph = new GraphBuilder('attention');
  const q = graph.input('q', ['heads', 'rows', 'head_dim']);
  const k = graph.input('k', ['heads', 'rows', 'head_dim']);
  const v = graph.input('v', ['heads', 'rows', 'head_dim']);
  const mask = graph.input('mask', ['rows', 'rows']);
  const scale = graph.input('scale', [1]);
  const [keysT] = graph.node('Transpose', [k], { perm: [0, 2, 1] });
  const [scores] = graph.node('MatMul', [q, keysT]);
  const [scaled] = graph.node('Mul', [scores, scale]);
  const [masked] = graph.node('Add', [scaled, mask]);
  const [probabilities] = graph.node('Softmax', [masked], { axis: -1 });
  graph.node('MatMul', [probabilities, v], {}, ['y']);
  graph.output('y', ['heads', 'rows', 'head_dim']);
  return graph.build();
}

/**
 * Creates an AttentionKernel that runs whole sequences (an empty cache before
 * the call) of at least `minRows` rows in onnxruntime, with the same masking
 * rules as `attention`. Incremental decoding steps stay on the plain loop.
 */
export function createOrtAttention(options: { threads?: number; minRows?: number } = {}): AttentionKernel & { dispose(): Promise<void> } {
  const sessions = new OrtSessionCache(options.threads ?? 2);
  const minRows = options.minRows ?? ORT_ATTENTION_MIN_ROWS;
  const kernel = async (q: Float32Array, rows: number, cache: LayerCache, config: ModelConfig): Promise<Float32Array> => {
    if (rows < minRows || cache.length !== rows) return attention(q, rows, cache, config);
    const { nHeads, nKvHeads, headDim, slidingWindow } = config;
    const group = nHeads / nKvHeads;
    const qWidth = nHeads * headDim;
    const kvWidth = nKvHeads * headDim;

    // Head-major copies; each query head reads its KV head's rows (grouped-query attention).
    const qh = new Float32Array(nHeads * rows * headDim);
    const kh = new Float32Array(nHeads * rows * headDim);
    const vh = new Float32Array(nHeads * rows * headDim);
    for (let h = 0; h < nHeads; h++) {
      const kvOffset = Math.floor(h / group) * headDim;
      for (let r = 0; r < rows; r++) {
        const target = (h * rows + r) * headDim;
        qh.set(q.subarray(r * qWidth + h * headDim, r * qWidth + (h + 1) * headDim), target);
        kh.set(cache.keys.subarray(r * kvWidth + kvOffset, r * kvWidth + kvOffset + headDim), target);
        vh.set(cache.values.subarray(r * kvWidth + kvOffset, r * kvWidth + kvOffset + headDim), target);
      }
    }

    const mask = new Float32Array(rows * rows);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < rows; j++) {
        const visible = j === r || (j < r && cache.keyMask[j] === 1 && (slidingWindow === undefined || r - j < slidingWindow));
        mask[r * rows + j] = visible ? 0 : -Infinity;
      }
    }

    const dims = [nHeads, rows, headDim];
    const [y] = await sessions.run('models:attention', attentionGraph, {
      q: { data: qh, dims },
      k: { data: kh, dims },
      v: { data: vh, dims },
      mask: { data: mask, dims: [rows, rows] },
      scale: { data: Float32Array.of(1 / Math.sqrt(headDim)), dims: [1] },
    });

    const out = new Float32Array(rows * qWidth);
    for (let h = 0; h < nHeads; h++) {
      for (let r = 0; r < rows; r++) out.set(y.subarray((h * rows + r) * headDim, (h * rows + r + 1) * headDim), r * qWidth + h * headDim);
    }
    return out;
  };
  return Object.assign(kernel, { dispose: () => sessions.dispose() });
}
