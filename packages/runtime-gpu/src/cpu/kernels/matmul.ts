/**
 * cpu matmul through onnxruntime-node (MLAS). Graph choice per variant:
 * 2-D without transposes → MatMul (what callers of ORT use directly), 2-D
 * with transposes → Gemm (transA/transB attributes), batched → Transpose +
 * MatMul. f16 inputs are widened to f32 on the host and the result rounded back.
 */
import { f16BitsToF32Array, f32ArrayToF16Bits, type StorageArray } from '../../dtype.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import type { Tensor } from '../../tensor.js';
import { registerKernel } from '../../kernels/registry.js';
import { assertDTypes, planMatmul } from '../../kernels/validate.js';
import { asCpuDevice } from '../cpu-device.js';

interface MatmulAttrs extends Record<string, unknown> {
  transA: boolean;
  transB: boolean;
}

/**
 * Builds the graph of one matmul variant. Its last node writes the graph
 * output Y itself: a trailing Identity would cost a full copy of the result,
 * because onnxruntime keeps an Identity that produces a graph output.
 */
function buildMatmulGraph(rank: number, rankB: number, transA: boolean, transB: boolean, hasBias: boolean): Uint8Array {
  const graph = new GraphBuilder('matmul');
  const dimsA = Array.from({ length: rank }, (_, i) => `a${i}`);
  const dimsB = Array.from({ length: rankB }, (_, i) => `b${i}`);
  let a = graph.input('A', dimsA);
  let b = graph.input('B', dimsB);
  const bias = hasBias ? graph.input('bias', ['n']) : null;

  if (rank === 2 && (transA || transB)) {
    const inputs = bias ? [a, b, bias] : [a, b];
    graph.node('Gemm', inputs, { transA: transA ? 1 : 0, transB: transB ? 1 : 0 }, ['Y']);
  } else {
    if (transA) [a] = graph.node('Transpose', [a], { perm: swapLastTwo(rank) });
    if (transB) [b] = graph.node('Transpose', [b], { perm: swapLastTwo(rankB) });
    if (bias) {
      const [product] = graph.node('MatMul', [a, b]);
      graph.node('Add', [product, bias], {}, ['Y']);
    } else {
      graph.node('MatMul', [a, b], {}, ['Y']);
    }
  }
  graph.output('Y');
  return graph.build();
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

function asF32(data: StorageArray, dtype: string): Float32Array {
  return dtype === 'f16' ? f16BitsToF32Array(data as Uint16Array) : (data as Float32Array);
}

registerKernel<MatmulAttrs>({
  name: 'matmul',
  device: 'cpu',
  run(inputs, attrs, device) {
    const [a, b, bias] = inputs as [Tensor, Tensor, Tensor | undefined];
    const op = 'matmul';
    const dtype = assertDTypes(op, [a, b], ['f32', 'f16']);
    if (bias) assertDTypes(op, [bias], ['f32', 'f16']);
    const plan = planMatmul(op, a, b, bias, attrs.transA, attrs.transB);

    const cpu = asCpuDevice(device);
    const key = `matmul:r${a.rank}:rb${b.rank}:tA${+attrs.transA}:tB${+attrs.transB}:bias${+(bias !== undefined)}`;
    const build = (): Uint8Array => buildMatmulGraph(a.rank, b.rank, attrs.transA, attrs.transB, bias !== undefined);

    return cpu.enqueue(op, inputs, [{ shape: plan.outShape, dtype }], async (arrays) => {
      const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = {
        A: { data: asF32(arrays[0], a.dtype), dims: a.shape },
        B: { data: asF32(arrays[1], b.dtype), dims: b.shape },
      };
      if (bias) feeds.bias = { data: asF32(arrays[2], bias.dtype), dims: bias.shape };
      const [result] = await cpu.sessions.run(key, build, feeds);
      return [dtype === 'f16' ? f32ArrayToF16Bits(result) : result];
    });
  },
});
