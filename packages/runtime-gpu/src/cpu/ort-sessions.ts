/**
 * onnxruntime-node sessions for the cpu device's matmul-class kernels. Each
 * op variant (e.g. "gemm transA=1 with bias") is one small in-memory ONNX
 * graph with symbolic dimensions, compiled once and cached.
 */
import { getLogger } from '@sculpt/core';
import * as ort from 'onnxruntime-node';

const log = getLogger('runtime-gpu:cpu');

export class OrtSessionCache {
  readonly #sessions = new Map<string, Promise<ort.InferenceSession>>();

  constructor(readonly threads: number) {}

  /** Returns the session for `key`, building its graph with `buildModel` on first use. */
  get(key: string, buildModel: () => Uint8Array): Promise<ort.InferenceSession> {
    let session = this.#sessions.get(key);
    if (session === undefined) {
      log.debug(() => `creating onnxruntime session '${key}'`);
      session = ort.InferenceSession.create(buildModel(), {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      session.catch(() => this.#sessions.delete(key));
      this.#sessions.set(key, session);
    }
    return session;
  }

  /** Runs a cached session on f32 inputs and returns its f32 outputs in order. */
  run(
    key: string,
    buildModel: () => Uint8Array,
    feeds: Record<string, { data: Float32Array; dims: readonly number[] }>,
  ): Promise<Float32Array[]> {
    return this.#run<Float32Array>(key, buildModel, feeds, 'float32');
  }

  /** Runs a cached session on f64 inputs and returns its f64 outputs in order. */
  runF64(
    key: string,
    buildModel: () => Uint8Array,
    feeds: Record<string, { data: Float64Array; dims: readonly number[] }>,
  ): Promise<Float64Array[]> {
    return this.#run<Float64Array>(key, buildModel, feeds, 'float64');
  }

  async #run<T extends Float32Array | Float64Array>(
    key: string,
    buildModel: () => Uint8Array,
    feeds: Record<string, { data: T; dims: readonly number[] }>,
    type: 'float32' | 'float64',
  ): Promise<T[]> {
    const session = await this.get(key, buildModel);
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      inputs[name] = new ort.Tensor(type, feed.data, feed.dims);
    }
    const results = await session.run(inputs);
    return session.outputNames.map((name) => results[name].data as T);
  }

  async dispose(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const pending of sessions) {
      try {
        await (await pending).release();
      } catch {
        // A session that failed to build has nothing to release.
      }
    }
  }
}
