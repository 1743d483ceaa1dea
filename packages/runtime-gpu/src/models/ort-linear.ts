/**
 * A LinearKernel backed by onnxruntime-node's Gemm (MLAS), for the large
 * matrix products of the CPU forward pass. Small products stay on the plain
 * loop of `cpuLinear`, because one session call costs tens of microseconds.
 */
import { GraphBuilder } from '../onnx/graph-builder.js';
import { OrtSessionCache } from '../cpu/ort-sessions.js';
import { cpuLinear, type LinearKernel } from './ops.js';

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
