/**
 * Differentiable transformer ops. Each function runs a forward kernel keyed by
 * name × device (registered by nn/cpu/kernels.ts and nn/webgpu/kernels.ts) and
 * records itself on the active tape. The matching gradients live in
 * autograd/gradients.ts. Activations are 2-D [tokens, features] unless stated.
 */
import * as base from '../ops.js';
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { ShapeError, DTypeError } from '../errors.js';
import type { ActivationName, RopeLayout } from './reference.js';
import { finishRecord, runRecorded } from './record.js';

export { reduceMax, reduceMin } from './extremum.js';

function expectRank(op: string, tensor: Tensor, rank: number, role: string): void {
  if (tensor.rank !== rank) throw new ShapeError(`${op}: ${role} must have rank ${rank}, got ${tensor.describe()}`);
}

function expectDType(op: string, tensor: Tensor, dtype: string, role: string): void {
  if (tensor.dtype !== dtype) throw new DTypeError(`${op}: ${role} must be ${dtype}, got ${tensor.describe()}`);
}

/** Rows of `table` [vocab, dim] picked by `ids` (i32 [tokens]) → [tokens, dim]. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  expectRank('embedding', table, 2, 'table');
  expectDType('embedding', ids, 'i32', 'ids');
  return runRecorded('nn.embedding', [table, ids], {}, 1)[0];
}

export interface RopeConfig {
  heads: number;
  headDim: number;
  /** Base of the rotary frequencies (10000 in Llama 2, 500000 in Llama 3). */
  theta: number;
  /** `interleaved` pairs (2i, 2i+1) as llama2.c; `half` pairs (i, i+headDim/2) as HF Llama. */
  layout: RopeLayout;
  /** Linear position interpolation factor; 1 for none. */
  scaling?: number;
}

/** Rotary position encoding of x [tokens, heads·headDim] at `positions` (i32 [tokens]). */
export function rope(x: Tensor, positions: Tensor, config: RopeConfig): Tensor {
  expectRank('rope', x, 2, 'x');
  expectDType('rope', positions, 'i32', 'positions');
  if (x.shape[1] !== config.heads * config.headDim || config.headDim % 2 !== 0) {
    throw new ShapeError(`rope: x ${x.describe()} does not match heads=${config.heads} × headDim=${config.headDim} (headDim must be even)`);
  }
  if (positions.size !== x.shape[0]) throw new ShapeError(`rope: ${positions.describe()} needs one position per row of ${x.describe()}`);
  const attrs = { heads: config.heads, headDim: config.headDim, theta: config.theta, layout: config.layout, scaling: config.scaling ?? 1 };
  return runRecorded('nn.rope', [x, positions], { ...attrs, direction: 1 }, 1)[0];
}

export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  expectRank('rmsNorm', x, 2, 'x');
  return runRecorded('nn.rmsNorm', [x, weight], { eps }, 1)[0];
}

/** Computes the residual add and RMSNorm in one kernel: returns [x + residual, rmsNorm(x + residual)]. */
export function addRmsNorm(x: Tensor, residual: Tensor, weight: Tensor, eps: number): [Tensor, Tensor] {
  expectRank('addRmsNorm', x, 2, 'x');
  if (x.shape.join() !== residual.shape.join()) throw new ShapeError(`addRmsNorm: x ${x.describe()} and residual ${residual.describe()} differ in shape`);
  const [sum, y] = runRecorded('nn.addRmsNorm', [x, residual, weight], { eps }, 2);
  return [sum, y];
}

/** Computes the residual add and LayerNorm in one kernel: returns [x + residual, layerNorm(x + residual)]. */
export function addLayerNorm(x: Tensor, residual: Tensor, weight: Tensor, bias: Tensor | null, eps: number): [Tensor, Tensor] {
  expectRank('addLayerNorm', x, 2, 'x');
  if (x.shape.join() !== residual.shape.join()) throw new ShapeError(`addLayerNorm: x ${x.describe()} and residual ${residual.describe()} differ in shape`);
  const inputs = bias ? [x, residual, weight, bias] : [x, residual, weight];
  const [sum, y] = runRecorded('nn.addLayerNorm', inputs, { eps }, 2);
  return [sum, y];
}

export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor | null, eps: number): Tensor {
  expectRank('layerNorm', x, 2, 'x');
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return runRecorded('nn.layerNorm', inputs, { eps }, 1)[0];
}

export function activation(x: Tensor, name: ActivationName): Tensor {
  return runRecorded('nn.activation', [x], { name }, 1)[0];
}

/** Gated linear unit activation(gate) ⊙ up; SwiGLU with `silu`, GeGLU with a GELU. */
export function glu(gate: Tensor, up: Tensor, name: ActivationName = 'silu'): Tensor {
  if (gate.size !== up.size) throw new ShapeError(`glu: gate ${gate.describe()} and up ${up.describe()} differ in size`);
  return runRecorded('nn.glu', [gate, up], { name }, 1)[0];
}

export function softmax(x: Tensor): Tensor {
  return runRecorded('nn.softmax', [x], { log: false }, 1)[0];
}

export function logSoftmax(x: Tensor): Tensor {
  return runRecorded('nn.softmax', [x], { log: true }, 1)[0];
}

export interface AttentionOptions {
  batch: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  causal: boolean;
  /** Defaults to 1/sqrt(headDim). */
  scale?: number;
  /** Keys in use per batch entry; defaults to all rows of k (a KV cache passes its fill level). */
  keyLength?: number;
  /** f32 [batch, keyCapacity]: 1 keeps key j, 0 masks it (padding). */
  keyMask?: Tensor;
}

/**
 * Scaled dot-product attention, fused with an online softmax.
 * q: [batch·queryLength, heads·headDim]; k, v: [batch·keyCapacity, kvHeads·headDim].
 * With `causal`, query i attends to keys j ≤ i + keyLength − queryLength. A
 * query with no visible key gets a zero output and zero gradients.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  const { batch, heads, kvHeads, headDim } = options;
  expectRank('attention', q, 2, 'q');
  expectRank('attention', k, 2, 'k');
  if (heads % kvHeads !== 0) throw new ShapeError(`attention: heads=${heads} is not a multiple of kvHeads=${kvHeads}`);
  if (q.shape[1] !== heads * headDim || q.shape[0] % batch !== 0) {
    throw new ShapeError(`attention: q ${q.describe()} does not match batch=${batch}, heads=${heads}, headDim=${headDim}`);
  }
  if (k.shape[1] !== kvHeads * headDim || k.shape[0] % batch !== 0 || v.shape.join() !== k.shape.join()) {
    throw new ShapeError(`attention: k ${k.describe()} / v ${v.describe()} do not match batch=${batch}, kvHeads=${kvHeads}, headDim=${headDim}`);
  }
  const keyCapacity = k.shape[0] / batch;
  const keyLength = options.keyLength ?? keyCapacity;
  if (keyLength > keyCapacity) throw new ShapeError(`attention: keyLength=${keyLength} exceeds the ${keyCapacity} key rows per batch entry`);
  if (options.keyMask && options.keyMask.size !== batch * keyCapacity) {
    throw new ShapeError(`attention: keyMask ${options.keyMask.describe()} must have batch × keyCapacity = ${batch * keyCapacity} entries`);
  }
  const attrs = {
    batch,
    queryLength: q.shape[0] / batch,
    keyLength,
    keyCapacity,
    heads,
    kvHeads,
    headDim,
    causal: options.causal,
    scale: options.scale ?? 1 / Math.sqrt(headDim),
  };
  const inputs = options.keyMask ? [q, k, v, options.keyMask] : [q, k, v];
  return runRecorded('nn.attention', inputs, attrs, 1)[0];
}

/** Default ignore index for padding targets, as in PyTorch. */
export const IGNORE_INDEX = -100;

/**
 * Mean cross-entropy of `logits` [rows, vocab] against `targets` (i32 [rows]),
 * skipping rows whose target is `ignoreIndex`; returns a scalar [1] (0 when all are ignored).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, ignoreIndex = IGNORE_INDEX): Tensor {
  expectRank('crossEntropy', logits, 2, 'logits');
  expectDType('crossEntropy', targets, 'i32', 'targets');
  if (targets.size !== logits.shape[0]) throw new ShapeError(`crossEntropy: ${targets.describe()} needs one target per row of ${logits.describe()}`);
  return runRecorded('nn.crossEntropy', [logits, targets], { ignoreIndex }, 1)[0];
}

/** x·Wᵀ + b with W stored [out, in] (PyTorch/HF layout); x is [tokens, in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = base.matmul(x, weight, { transB: true, bias: bias ?? undefined });
  finishRecord('linear', bias ? [x, weight, bias] : [x, weight], [y], [], {});
  return y;
}

/** Differentiable matmul with transpose flags (see the foundation's `matmul`). */
export function matmul(a: Tensor, b: Tensor, options: { transA?: boolean; transB?: boolean } = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const y = base.matmul(a, b, { transA, transB });
  finishRecord('matmul', [a, b], [y], [], { transA, transB });
  return y;
}

/** Elementwise sum; b may also be a row vector [features] broadcast over the rows of a. */
export function add(a: Tensor, b: Tensor): Tensor {
  const y = base.add(a, b);
  finishRecord('add', [a, b], [y], [], {});
  return y;
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const y = base.sub(a, b);
  finishRecord('sub', [a, b], [y], [], {});
  return y;
}

/** Elementwise product; b may also be a row vector broadcast over the rows of a. */
export function mul(a: Tensor, b: Tensor): Tensor {
  const y = base.mul(a, b);
  finishRecord('mul', [a, b], [y], [], {});
  return y;
}

/** x·scale + offset. */
export function affine(x: Tensor, scale: number, offset = 0): Tensor {
  const y = base.affine(x, scale, offset);
  finishRecord('affine', [x], [y], [], { scale });
  return y;
}

/**
 * Converts x to `dtype`; the gradient is converted back to x's dtype. Casting
 * f32 master weights to f16 copies makes their gradients arrive in f32.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  const y = base.cast(x, dtype);
  finishRecord('cast', [x], [y], [], { dtype: x.dtype });
  return y;
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const y = base.reshape(x, shape);
  finishRecord('reshape', [x], [y], [], { shape: [...x.shape] });
  return y;
}
