/**
 * Forward and backward of the transformer ops the ChainCoder miniature uses,
 * written as plain loops over Float32Arrays with every matrix product handed
 * to onnxruntime (see ort-matmul.ts). Each forward op pushes a closure that
 * computes its input gradients, and `backward` runs those closures in
 * reverse, the way a hand-written training step in C or NumPy is ordered.
 * Activations are row-major [rows, cols].
 */
import type { OrtProducts } from './ort-matmul.js';

/** An activation or parameter with its gradient buffer (allocated on first use). */
export class Value {
  grad: Float32Array | null = null;

  constructor(
    readonly data: Float32Array,
    readonly rows: number,
    readonly cols: number,
  ) {
    if (data.length !== rows * cols) throw new Error(`Value: ${data.length} entries do not form [${rows}, ${cols}]`);
  }

  gradient(): Float32Array {
    this.grad ??= new Float32Array(this.data.length);
    return this.grad;
  }
}

export interface AttentionSettings {
  /** Sequences in the batch; q has batch·Lq rows and k, v have batch·Lk rows. */
  batch: number;
  heads: number;
  causal: boolean;
  /** [batch, Lk]: 1 keeps a key, 0 masks it. */
  keyMask?: Float32Array;
}

type BackwardStep = () => void | Promise<void>;

export class BaselineOps {
  readonly #steps: BackwardStep[] = [];

  constructor(readonly products: OrtProducts) {}

  /** Backpropagates from a scalar loss through every op recorded since the last call. */
  async backward(loss: Value): Promise<void> {
    loss.gradient()[0] = 1;
    for (let index = this.#steps.length - 1; index >= 0; index--) await this.#steps[index]();
    this.#steps.length = 0;
  }

  /** Rows of `table` picked by `ids`. */
  gather(table: Value, ids: ArrayLike<number>): Value {
    const { cols } = table;
    const out = new Float32Array(ids.length * cols);
    for (let r = 0; r < ids.length; r++) out.set(table.data.subarray(ids[r] * cols, (ids[r] + 1) * cols), r * cols);
    const result = new Value(out, ids.length, cols);
    this.#steps.push(() => {
      if (result.grad === null) return;
      const grad = table.gradient();
      for (let r = 0; r < ids.length; r++) {
        const target = ids[r] * cols;
        for (let c = 0; c < cols; c++) grad[target + c] += result.grad[r * cols + c];
      }
    });
    return result;
  }

  /** Builds a [rows, cols] matrix whose row `targets[r]` of each part is row r of that part's value (zeros elsewhere). */
  place(rows: number, cols: number, parts: { value: Value; targets: readonly number[] }[]): Value {
    const out = new Float32Array(rows * cols);
    for (const { value, targets } of parts) {
      for (let r = 0; r < targets.length; r++) {
        for (let c = 0; c < cols; c++) out[targets[r] * cols + c] += value.data[r * cols + c];
      }
    }
    const result = new Value(out, rows, cols);
    this.#steps.push(() => {
      if (result.grad === null) return;
      for (const { value, targets } of parts) {
        const grad = value.gradient();
        for (let r = 0; r < targets.length; r++) {
          for (let c = 0; c < cols; c++) grad[r * cols + c] += result.grad[targets[r] * cols + c];
        }
      }
    });
    return result;
  }

  /** Row i of the result is the mean of rows [starts[i], starts[i] + lengths[i]) of x. */
  meanRows(x: Value, starts: readonly number[], lengths: readonly number[]): Value {
    const { cols } = x;
    const out = new Float32Array(starts.length * cols);
    starts.forEach((start, i) => {
      for (let r = start; r < start + lengths[i]; r++) {
        for (let c = 0; c < cols; c++) out[i * cols + c] += x.data[r * cols + c] / lengths[i];
      }
    });
    const result = new Value(out, starts.length, cols);
    this.#steps.push(() => {
      if (result.grad === null) return;
      const grad = x.gradient();
      starts.forEach((start, i) => {
        for (let r = start; r < start + lengths[i]; r++) {
          for (let c = 0; c < cols; c++) grad[r * cols + c] += result.grad![i * cols + c] / lengths[i];
        }
      });
    });
    return result;
  }

  /**
   * Row i of the result is the element-wise max (or min) of rows
   * [starts[i], starts[i] + lengths[i]) of x. The gradient goes to the first
   * row that attains it, as runtime-gpu's reduceMax/reduceMin send it.
   */
  extremumRows(x: Value, starts: readonly number[], lengths: readonly number[], kind: 'max' | 'min'): Value {
    const { cols } = x;
    const out = new Float32Array(starts.length * cols);
    const chosen = new Int32Array(starts.length * cols);
    const better = kind === 'max' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    starts.forEach((start, i) => {
      for (let c = 0; c < cols; c++) {
        let row = start;
        for (let r = start + 1; r < start + lengths[i]; r++) if (better(x.data[r * cols + c], x.data[row * cols + c])) row = r;
        chosen[i * cols + c] = row;
        out[i * cols + c] = x.data[row * cols + c];
      }
    });
    const result = new Value(out, starts.length, cols);
    this.#steps.push(() => {
      if (result.grad === null) return;
      const grad = x.gradient();
      for (let index = 0; index < chosen.length; index++) grad[chosen[index] * cols + (index % cols)] += result.grad[index];
    });
    return result;
  }

  add(a: Value, b: Value): Value {
    if (a.data.length !== b.data.length) throw new Error(`add: [${a.rows}, ${a.cols}] and [${b.rows}, ${b.cols}] differ`);
    const out = new Float32Array(a.data.length);
    for (let i = 0; i < out.length; i++) out[i] = a.data[i] + b.data[i];
    const result = new Value(out, a.rows, a.cols);
    this.#steps.push(() => {
      if (result.grad === null) return;
      const gradA = a.gradient();
      const gradB = b.gradient();
      for (let i = 0; i < out.length; i++) {
        gradA[i] += result.grad[i];
        gradB[i] += result.grad[i];
      }
    });
    return result;
  }

  relu(x: Value): Value {
    const out = x.data.map((value) => (value > 0 ? value : 0));
    const result = new Value(out, x.rows, x.cols);
    this.#steps.push(() => {
      if (result.grad === null) return;
      const grad = x.gradient();
      for (let i = 0; i < out.length; i++) if (x.data[i] > 0) grad[i] += result.grad[i];
    });
    return result;
  }

  /** x·Wᵀ + b with W stored [out, in]. */
  async linear(x: Value, weight: Value, bias: Value | null): Promise<Value> {
    const shape = { m: x.rows, k: x.cols, n: weight.rows, transB: true };
    const out = await this.products.gemm(x.data, weight.data, shape, bias?.data);
    const result = new Value(out, x.rows, weight.rows);
    this.#steps.push(async () => {
      if (result.grad === null) return;
      const dy = result.grad;
      // dx = dy·W, dW += dyᵀ·x, db += column sums of dy.
      const dx = await this.products.gemm(dy, weight.data, { m: x.rows, k: weight.rows, n: x.cols });
      const dw = await this.products.gemm(dy, x.data, { m: weight.rows, k: x.rows, n: x.cols, transA: true });
      accumulate(x.gradient(), dx);
      accumulate(weight.gradient(), dw);
      if (bias !== null) {
        const db = bias.gradient();
        for (let r = 0; r < x.rows; r++) for (let c = 0; c < weight.rows; c++) db[c] += dy[r * weight.rows + c];
      }
    });
    return result;
  }

  /** LayerNorm over each row with the biased variance, as PyTorch computes it. */
  layerNorm(x: Value, weight: Value, bias: Value, eps: number): Value {
    const { rows, cols } = x;
    const out = new Float32Array(rows * cols);
    const normalized = new Float32Array(rows * cols);
    const inverseStd = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let mean = 0;
      for (let c = 0; c < cols; c++) mean += x.data[r * cols + c];
      mean /= cols;
      let variance = 0;
      for (let c = 0; c < cols; c++) variance += (x.data[r * cols + c] - mean) ** 2;
      inverseStd[r] = 1 / Math.sqrt(variance / cols + eps);
      for (let c = 0; c < cols; c++) {
        normalized[r * cols + c] = (x.data[r * cols + c] - mean) * inverseStd[r];
        out[r * cols + c] = normalized[r * cols + c] * weight.data[c] + bias.data[c];
      }
    }
    const result = new Value(out, rows, cols);
    this.#steps.push(() => {
      if (result.grad === null) return;
      const dy = result.grad;
      const dx = x.gradient();
      const dw = weight.gradient();
      const db = bias.gradient();
      for (let r = 0; r < rows; r++) {
        let meanGrad = 0;
        let meanGradDotNormalized = 0;
        for (let c = 0; c < cols; c++) {
          const g = dy[r * cols + c] * weight.data[c];
          meanGrad += g;
          meanGradDotNormalized += g * normalized[r * cols + c];
          dw[c] += dy[r * cols + c] * normalized[r * cols + c];
          db[c] += dy[r * cols + c];
        }
        meanGrad /= cols;
        meanGradDotNormalized /= cols;
        for (let c = 0; c < cols; c++) {
          const g = dy[r * cols + c] * weight.data[c];
          dx[r * cols + c] += inverseStd[r] * (g - meanGrad - normalized[r * cols + c] * meanGradDotNormalized);
        }
      }
    });
    return result;
  }

  /**
   * Multi-head scaled dot-product attention. The heads are copied into
   * [batch·heads, L, headDim] blocks so that QKᵀ and P·V are two batched
   * onnxruntime products; masking and the softmax are loops. A query whose
   * keys are all masked gets a zero output, as runtime-gpu's kernel returns.
   */
  async attention(q: Value, k: Value, v: Value, settings: AttentionSettings): Promise<Value> {
    const { batch, heads, causal, keyMask } = settings;
    const width = q.cols;
    const headDim = width / heads;
    const queryLength = q.rows / batch;
    const keyLength = k.rows / batch;
    const scale = 1 / Math.sqrt(headDim);
    const qHeads = splitHeads(q.data, batch, queryLength, heads, headDim);
    const kHeads = splitHeads(k.data, batch, keyLength, heads, headDim);
    const vHeads = splitHeads(v.data, batch, keyLength, heads, headDim);
    const groups = batch * heads;

    const scores = await this.products.batched(qHeads, kHeads, groups, { m: queryLength, k: headDim, n: keyLength, transB: true });
    const probabilities = new Float32Array(scores.length);
    for (let g = 0; g < groups; g++) {
      const b = Math.floor(g / heads);
      for (let i = 0; i < queryLength; i++) {
        const row = (g * queryLength + i) * keyLength;
        const limit = causal ? Math.min(keyLength, i + keyLength - queryLength + 1) : keyLength;
        let max = -Infinity;
        for (let j = 0; j < limit; j++) {
          if (keyMask !== undefined && keyMask[b * keyLength + j] === 0) continue;
          max = Math.max(max, scores[row + j] * scale);
        }
        if (max === -Infinity) continue;
        let sum = 0;
        for (let j = 0; j < limit; j++) {
          if (keyMask !== undefined && keyMask[b * keyLength + j] === 0) continue;
          probabilities[row + j] = Math.exp(scores[row + j] * scale - max);
          sum += probabilities[row + j];
        }
        for (let j = 0; j < limit; j++) probabilities[row + j] /= sum;
      }
    }

    const outHeads = await this.products.batched(probabilities, vHeads, groups, { m: queryLength, k: keyLength, n: headDim });
    const result = new Value(mergeHeads(outHeads, batch, queryLength, heads, headDim), q.rows, width);
    this.#steps.push(async () => {
      if (result.grad === null) return;
      const dOut = splitHeads(result.grad, batch, queryLength, heads, headDim);
      const dProbabilities = await this.products.batched(dOut, vHeads, groups, { m: queryLength, k: headDim, n: keyLength, transB: true });
      const dV = await this.products.batched(probabilities, dOut, groups, { m: keyLength, k: queryLength, n: headDim, transA: true });

      // Softmax backward: dS = P ⊙ (dP − Σ_j P·dP), times the score scale.
      const dScores = new Float32Array(probabilities.length);
      for (let row = 0; row < groups * queryLength; row++) {
        let dot = 0;
        for (let j = 0; j < keyLength; j++) dot += probabilities[row * keyLength + j] * dProbabilities[row * keyLength + j];
        for (let j = 0; j < keyLength; j++) {
          const index = row * keyLength + j;
          dScores[index] = probabilities[index] * (dProbabilities[index] - dot) * scale;
        }
      }
      const dQ = await this.products.batched(dScores, kHeads, groups, { m: queryLength, k: keyLength, n: headDim });
      const dK = await this.products.batched(dScores, qHeads, groups, { m: keyLength, k: queryLength, n: headDim, transA: true });
      accumulate(q.gradient(), mergeHeads(dQ, batch, queryLength, heads, headDim));
      accumulate(k.gradient(), mergeHeads(dK, batch, keyLength, heads, headDim));
      accumulate(v.gradient(), mergeHeads(dV, batch, keyLength, heads, headDim));
    });
    return result;
  }

  /** Mean cross-entropy over rows whose label is not `ignoreIndex`; returns a [1, 1] value (0 when every row is ignored). */
  crossEntropy(logits: Value, labels: readonly number[], ignoreIndex: number): Value {
    const { rows, cols } = logits;
    const softmax = new Float32Array(rows * cols);
    let total = 0;
    let counted = 0;
    for (let r = 0; r < rows; r++) {
      if (labels[r] === ignoreIndex) continue;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, logits.data[r * cols + c]);
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        softmax[r * cols + c] = Math.exp(logits.data[r * cols + c] - max);
        sum += softmax[r * cols + c];
      }
      for (let c = 0; c < cols; c++) softmax[r * cols + c] /= sum;
      total -= logits.data[r * cols + labels[r]] - max - Math.log(sum);
      counted++;
    }
    const result = new Value(Float32Array.of(counted === 0 ? 0 : total / counted), 1, 1);
    this.#steps.push(() => {
      if (result.grad === null || counted === 0) return;
      const grad = logits.gradient();
      const seed = result.grad[0] / counted;
      for (let r = 0; r < rows; r++) {
        if (labels[r] === ignoreIndex) continue;
        for (let c = 0; c < cols; c++) grad[r * cols + c] += seed * softmax[r * cols + c];
        grad[r * cols + labels[r]] -= seed;
      }
    });
    return result;
  }
}

function accumulate(target: Float32Array, source: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i] += source[i];
}

/** [batch·L, heads·headDim] → [batch·heads, L, headDim]. */
function splitHeads(x: Float32Array, batch: number, length: number, heads: number, headDim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < length; t++) {
      for (let h = 0; h < heads; h++) {
        const from = ((b * length + t) * heads + h) * headDim;
        out.set(x.subarray(from, from + headDim), ((b * heads + h) * length + t) * headDim);
      }
    }
  }
  return out;
}

/** [batch·heads, L, headDim] → [batch·L, heads·headDim]. */
function mergeHeads(x: Float32Array, batch: number, length: number, heads: number, headDim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < length; t++) {
        const from = ((b * heads + h) * length + t) * headDim;
        out.set(x.subarray(from, from + headDim), ((b * length + t) * heads + h) * headDim);
      }
    }
  }
  return out;
}
