/**
 * Matrix products for the training baseline, run by onnxruntime-node
 * directly: one in-memory ONNX graph (Gemm for 2-D operands, MatMul with
 * Transpose nodes for batched ones) per transpose/bias variant, compiled on
 * first use and cached. The dimensions are symbolic, so batches of new shapes
 * reuse the compiled sessions instead of paying for a compile each. This is
 * how a port that hands every product to onnxruntime would look, with no
 * runtime-gpu kernels in between.
 */
import * as ort from 'onnxruntime-node';
import { onnx } from '@sculpt/runtime-gpu';

export interface ProductShape {
  /** Rows of op(A) and of the result. */
  m: number;
  /** Inner dimension. */
  k: number;
  /** Columns of op(B) and of the result. */
  n: number;
  /** A is stored [k, m] and used transposed. */
  transA?: boolean;
  /** B is stored [n, k] and used transposed. */
  transB?: boolean;
}

function storedDims<T>(shape: { transA?: boolean; transB?: boolean }, m: T, k: T, n: T): { a: T[]; b: T[] } {
  return { a: shape.transA === true ? [k, m] : [m, k], b: shape.transB === true ? [n, k] : [k, n] };
}

/** Transpose permutation that swaps the last two axes of a [batch, rows, cols] operand. */
const SWAP_LAST_TWO = [0, 2, 1];

/** Builds Y = op(A)·op(B) (+ bias) for 2-D operands, or a batched product [batch, m, n] when `batched` is set. */
function buildGraph(shape: ProductShape, batched: boolean, hasBias: boolean): Uint8Array {
  const graph = new onnx.GraphBuilder('baseline_product');
  const dims = storedDims(shape, 'm', 'k', 'n');
  const lead = batched ? ['batch'] : [];
  let a = graph.input('A', [...lead, ...dims.a]);
  let b = graph.input('B', [...lead, ...dims.b]);
  const bias = hasBias ? graph.input('bias', ['n']) : null;

  let product: string;
  if (!batched) {
    const inputs = bias === null ? [a, b] : [a, b, bias];
    [product] = graph.node('Gemm', inputs, { transA: shape.transA === true ? 1 : 0, transB: shape.transB === true ? 1 : 0 });
  } else {
    if (shape.transA === true) [a] = graph.node('Transpose', [a], { perm: SWAP_LAST_TWO });
    if (shape.transB === true) [b] = graph.node('Transpose', [b], { perm: SWAP_LAST_TWO });
    [product] = graph.node('MatMul', [a, b]);
  }
  graph.node('Identity', [product], {}, ['Y']);
  graph.output('Y');
  return graph.build();
}

export class OrtProducts {
  readonly #sessions = new Map<string, Promise<ort.InferenceSession>>();

  constructor(readonly threads: number) {}

  #session(key: string, build: () => Uint8Array): Promise<ort.InferenceSession> {
    let session = this.#sessions.get(key);
    if (session === undefined) {
      session = ort.InferenceSession.create(build(), {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      this.#sessions.set(key, session);
    }
    return session;
  }

  /** Returns op(A)·op(B) + bias as a new [m, n] array. */
  gemm(a: Float32Array, b: Float32Array, shape: ProductShape, bias?: Float32Array): Promise<Float32Array> {
    return this.#run(a, b, shape, null, bias);
  }

  /** Returns op(A_i)·op(B_i) for i < batch as a new [batch, m, n] array. */
  batched(a: Float32Array, b: Float32Array, batch: number, shape: ProductShape): Promise<Float32Array> {
    return this.#run(a, b, shape, batch, undefined);
  }

  async #run(a: Float32Array, b: Float32Array, shape: ProductShape, batch: number | null, bias: Float32Array | undefined): Promise<Float32Array> {
    const dims = storedDims(shape, shape.m, shape.k, shape.n);
    const lead = batch === null ? [] : [batch];
    const key = `${batch === null ? 'gemm' : 'batched'}:${+(shape.transA === true)}${+(shape.transB === true)}:${+(bias !== undefined)}`;
    const session = await this.#session(key, () => buildGraph(shape, batch !== null, bias !== undefined));
    const feeds: Record<string, ort.Tensor> = {
      A: new ort.Tensor('float32', a, [...lead, ...dims.a]),
      B: new ort.Tensor('float32', b, [...lead, ...dims.b]),
    };
    if (bias !== undefined) feeds.bias = new ort.Tensor('float32', bias, [shape.n]);
    const results = await session.run(feeds);
    return results.Y.data as Float32Array;
  }

  async dispose(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of sessions) await (await session).release();
  }
}
