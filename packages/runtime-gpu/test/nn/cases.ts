/**
 * Op cases shared by the forward and gradient tests: small, odd shapes, each
 * paired with the float64 reference. Shapes are kept small because the
 * gradient check runs the reference twice per input element.
 */
import { Random } from '@sculpt/core';
import { nn, nnReference as ref } from '../../src/index.js';
import type { ActivationName, RopeLayout } from '../../src/index.js';
import { randomArray, randomInts, type HostArray, type OpCase } from './harness.js';

const f64 = (array: HostArray): Float64Array => array as Float64Array;

export interface AttentionCaseOptions {
  batch: number;
  queryLength: number;
  keyLength: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  causal: boolean;
  /** Per batch entry, key positions to mask out. */
  masked?: number[][];
}

export function attentionCase(name: string, options: AttentionCaseOptions, seed = 1): OpCase {
  const random = new Random(seed);
  const { batch, queryLength, keyLength, heads, kvHeads, headDim, causal } = options;
  const shape = { batch, queryLength, keyLength, heads, kvHeads, headDim, causal, scale: 1 / Math.sqrt(headDim) };
  let mask: Float64Array | undefined;
  if (options.masked) {
    mask = new Float64Array(batch * keyLength).fill(1);
    options.masked.forEach((positions, b) => positions.forEach((j) => (mask![b * keyLength + j] = 0)));
  }
  const inputs = [
    { shape: [batch * queryLength, heads * headDim], data: randomArray(random, batch * queryLength * heads * headDim), grad: true },
    { shape: [batch * keyLength, kvHeads * headDim], data: randomArray(random, batch * keyLength * kvHeads * headDim), grad: true },
    { shape: [batch * keyLength, kvHeads * headDim], data: randomArray(random, batch * keyLength * kvHeads * headDim), grad: true },
  ];
  if (mask) inputs.push({ shape: [batch, keyLength], data: mask, grad: false });
  return {
    name,
    inputs,
    run: ([q, k, v, keyMask]) => nn.attention(q, k, v, { batch, heads, kvHeads, headDim, causal, keyMask }),
    reference: ([q, k, v, keyMask]) => ref.attentionRef(f64(q), f64(k), f64(v), shape, keyMask),
  };
}

export function buildCases(): OpCase[] {
  const random = new Random(42);
  const cases: OpCase[] = [];

  const vocab = 11;
  const dim = 5;
  const ids = Int32Array.from([3, 0, 3, 10, 7, 3, 0]);
  cases.push({
    name: 'embedding',
    inputs: [
      { shape: [vocab, dim], data: randomArray(random, vocab * dim), grad: true },
      { shape: [ids.length], data: ids },
    ],
    run: ([table, index]) => nn.embedding(table, index),
    reference: ([table, index]) => ref.embeddingRef(f64(table), dim, index),
  });

  for (const layout of ['interleaved', 'half'] as RopeLayout[]) {
    const heads = 3;
    const headDim = 6;
    const positions = Int32Array.from([0, 1, 2, 7, 5]);
    const config = { heads, headDim, theta: 10000, layout, scaling: layout === 'half' ? 2 : 1 };
    cases.push({
      name: `rope ${layout}`,
      inputs: [
        { shape: [positions.length, heads * headDim], data: randomArray(random, positions.length * heads * headDim), grad: true },
        { shape: [positions.length], data: positions },
      ],
      run: ([x, p]) => nn.rope(x, p, config),
      reference: ([x, p]) => ref.ropeRef(f64(x), p, heads, headDim, config.theta, layout, config.scaling),
    });
  }

  const rows = 3;
  const width = 7;
  cases.push({
    name: 'rmsNorm',
    inputs: [
      { shape: [rows, width], data: randomArray(random, rows * width), grad: true },
      { shape: [width], data: randomArray(random, width), grad: true },
    ],
    run: ([x, w]) => nn.rmsNorm(x, w, 1e-5),
    reference: ([x, w]) => ref.rmsNormRef(f64(x), f64(w), width, 1e-5),
  });
  cases.push({
    name: 'addRmsNorm sum and norm',
    inputs: [
      { shape: [rows, width], data: randomArray(random, rows * width), grad: true },
      { shape: [rows, width], data: randomArray(random, rows * width), grad: true },
      { shape: [width], data: randomArray(random, width), grad: true },
    ],
    // Adding both outputs sends gradient through the sum and through the normalization.
    run: ([x, residual, w]) => {
      const [sum, y] = nn.addRmsNorm(x, residual, w, 1e-5);
      return nn.add(nn.affine(sum, 0.5), y);
    },
    reference: ([x, residual, w]) => {
      const sum = f64(x).map((value, i) => value + f64(residual)[i]);
      const y = ref.rmsNormRef(sum, f64(w), width, 1e-5);
      return sum.map((value, i) => 0.5 * value + y[i]);
    },
  });
  cases.push({
    name: 'addLayerNorm sum and norm',
    inputs: [
      { shape: [rows, width], data: randomArray(random, rows * width), grad: true },
      { shape: [rows, width], data: randomArray(random, rows * width), grad: true },
      { shape: [width], data: randomArray(random, width), grad: true },
      { shape: [width], data: randomArray(random, width), grad: true },
    ],
    run: ([x, residual, w, b]) => {
      const [sum, y] = nn.addLayerNorm(x, residual, w, b, 1e-5);
      return nn.add(nn.affine(sum, 0.5), y);
    },
    reference: ([x, residual, w, b]) => {
      const sum = f64(x).map((value, i) => value + f64(residual)[i]);
      const y = ref.layerNormRef(sum, f64(w), f64(b), width, 1e-5);
      return sum.map((value, i) => 0.5 * value + y[i]);
    },
  });
  cases.push({
    name: 'layerNorm',
    inputs: [
      { shape: [rows, width], data: randomArray(random, rows * width), grad: true },
      { shape: [width], data: randomArray(random, width), grad: true },
      { shape: [width], data: randomArray(random, width), grad: true },
    ],
    run: ([x, w, b]) => nn.layerNorm(x, w, b, 1e-5),
    reference: ([x, w, b]) => ref.layerNormRef(f64(x), f64(w), f64(b), width, 1e-5),
  });

  for (const name of ['silu', 'gelu_tanh', 'gelu_erf', 'relu'] as ActivationName[]) {
    // Keep ReLU inputs away from 0, where the derivative jumps and differences are meaningless.
    const data = randomArray(random, 13).map((value) => (name === 'relu' && Math.abs(value) < 0.05 ? value + 0.2 : value) * 2);
    cases.push({
      name: `activation ${name}`,
      inputs: [{ shape: [13], data, grad: true }],
      run: ([x]) => nn.activation(x, name),
      reference: ([x]) => f64(x).map((value) => ref.activationRef(name, value)),
    });
  }
  cases.push({
    name: 'swiglu',
    inputs: [
      { shape: [3, 5], data: randomArray(random, 15), grad: true },
      { shape: [3, 5], data: randomArray(random, 15), grad: true },
    ],
    run: ([gate, up]) => nn.glu(gate, up, 'silu'),
    reference: ([gate, up]) => ref.swigluRef(f64(gate), f64(up)),
  });

  cases.push({
    name: 'softmax',
    inputs: [{ shape: [3, 9], data: randomArray(random, 27, 3), grad: true }],
    run: ([x]) => nn.softmax(x),
    reference: ([x]) => ref.softmaxRef(f64(x), 9),
  });
  cases.push({
    name: 'logSoftmax',
    inputs: [{ shape: [3, 9], data: randomArray(random, 27, 3), grad: true }],
    run: ([x]) => nn.logSoftmax(x),
    reference: ([x]) => ref.logSoftmaxRef(f64(x), 9),
  });

  const targets = Int32Array.from([2, -100, 0, 16, 5]);
  cases.push({
    name: 'crossEntropy with ignoreIndex',
    inputs: [
      { shape: [5, 17], data: randomArray(random, 85, 2), grad: true },
      { shape: [5], data: targets },
    ],
    run: ([logits, t]) => nn.crossEntropy(logits, t),
    reference: ([logits, t]) => Float64Array.of(ref.crossEntropyRef(f64(logits), 17, t, -100)),
  });

  for (const [transA, transB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    const [m, k, n] = [3, 5, 4];
    cases.push({
      name: `matmul transA=${transA} transB=${transB}`,
      inputs: [
        { shape: transA ? [k, m] : [m, k], data: randomArray(random, m * k), grad: true },
        { shape: transB ? [n, k] : [k, n], data: randomArray(random, k * n), grad: true },
      ],
      run: ([a, b]) => nn.matmul(a, b, { transA, transB }),
      reference: ([a, b]) => ref.matmulRef(f64(a), f64(b), m, k, n, transA, transB),
    });
  }
  cases.push({
    name: 'linear with bias',
    inputs: [
      { shape: [4, 6], data: randomArray(random, 24), grad: true },
      { shape: [3, 6], data: randomArray(random, 18), grad: true },
      { shape: [3], data: randomArray(random, 3), grad: true },
    ],
    run: ([x, w, b]) => nn.linear(x, w, b),
    reference: ([x, w, b]) => {
      const y = ref.matmulRef(f64(x), f64(w), 4, 6, 3, false, true);
      return y.map((value, i) => value + f64(b)[i % 3]);
    },
  });
  cases.push({
    name: 'elementwise add mul sub affine',
    inputs: [
      { shape: [3, 4], data: randomArray(random, 12), grad: true },
      { shape: [3, 4], data: randomArray(random, 12), grad: true },
      { shape: [4], data: randomArray(random, 4), grad: true },
    ],
    run: ([a, b, row]) => nn.affine(nn.sub(nn.mul(nn.add(a, row), b), a), 0.5, 1),
    reference: ([a, b, row]) => f64(a).map((value, i) => (((value + f64(row)[i % 4]) * f64(b)[i] - value) * 0.5 + 1)),
  });

  cases.push({
    name: 'reshape and cast',
    inputs: [{ shape: [2, 6], data: randomArray(random, 12), grad: true }],
    run: ([x]) => nn.cast(nn.reshape(nn.mul(x, x), [3, 4]), 'f32'),
    reference: ([x]) => f64(x).map((value) => value * value),
  });

  // Rows wider than the 64-lane workgroup exercise the strided loops of the row kernels.
  const wide = 131;
  cases.push({
    name: 'rmsNorm wide rows',
    inputs: [
      { shape: [2, wide], data: randomArray(random, 2 * wide), grad: true },
      { shape: [wide], data: randomArray(random, wide), grad: true },
    ],
    run: ([x, w]) => nn.rmsNorm(x, w, 1e-6),
    reference: ([x, w]) => ref.rmsNormRef(f64(x), f64(w), wide, 1e-6),
  });
  cases.push({
    name: 'layerNorm wide rows',
    inputs: [
      { shape: [2, wide], data: randomArray(random, 2 * wide), grad: true },
      { shape: [wide], data: randomArray(random, wide), grad: true },
    ],
    run: ([x, w]) => nn.layerNorm(x, w, null, 1e-6),
    reference: ([x, w]) => ref.layerNormRef(f64(x), f64(w), undefined, wide, 1e-6),
  });
  cases.push({
    name: 'logSoftmax wide rows',
    inputs: [{ shape: [2, wide], data: randomArray(random, 2 * wide, 4), grad: true }],
    run: ([x]) => nn.logSoftmax(x),
    reference: ([x]) => ref.logSoftmaxRef(f64(x), wide),
  });
  cases.push({
    name: 'crossEntropy wide vocabulary',
    inputs: [
      { shape: [3, wide], data: randomArray(random, 3 * wide, 4), grad: true },
      { shape: [3], data: Int32Array.from([130, 0, 64]) },
    ],
    run: ([logits, t]) => nn.crossEntropy(logits, t),
    reference: ([logits, t]) => Float64Array.of(ref.crossEntropyRef(f64(logits), wide, t, -100)),
  });
  cases.push({
    name: 'crossEntropy all targets ignored',
    inputs: [
      { shape: [2, 5], data: randomArray(random, 10), grad: true },
      { shape: [2], data: Int32Array.from([-100, -100]) },
    ],
    run: ([logits, t]) => nn.crossEntropy(logits, t),
    reference: () => Float64Array.of(0),
  });

  cases.push(attentionCase('attention causal', { batch: 2, queryLength: 5, keyLength: 5, heads: 2, kvHeads: 2, headDim: 4, causal: true }));
  cases.push(attentionCase('attention GQA cross', { batch: 1, queryLength: 3, keyLength: 6, heads: 4, kvHeads: 2, headDim: 3, causal: false }));
  cases.push(attentionCase('attention many queries', { batch: 2, queryLength: 40, keyLength: 40, heads: 2, kvHeads: 1, headDim: 8, causal: true }));
  cases.push(
    attentionCase('attention padding mask', {
      batch: 2,
      queryLength: 4,
      keyLength: 4,
      heads: 2,
      kvHeads: 1,
      headDim: 5,
      causal: true,
      masked: [[0], [1, 3]],
    }),
  );
  return cases;
}

