/**
 * WGSL kernels with one workgroup per row: RMSNorm and LayerNorm (forward
 * saving per-row statistics, backward), softmax and log-softmax, the fused
 * cross-entropy forward, and the squared norm used for gradient clipping.
 * Lanes stride over the row and combine partial results with a shared-memory
 * tree. Parameter gradients are column sums with one invocation per column.
 * So every sum runs in a fixed order and needs no atomics.
 */
import type { Tensor } from '../../tensor.js';
import { declarations, gpuOf, groupsFor, launch, linearEntry, rowEntry, TREE_SUM, treeSum, WORKGROUP, type UniformField } from './launch.js';

const SHARED = `var<workgroup> partials: array<f32, ${WORKGROUP}>;`;

/**
 * RMSNorm of x, or with `residual` of s = x + residual (then s is written too,
 * saving a separate pass for the residual add). Returns [y, invRms] or [s, y, invRms].
 */
export function rmsNormForward(x: Tensor, weight: Tensor, eps: number, residual?: Tensor): Tensor[] {
  const device = gpuOf(x);
  const dim = x.shape[1];
  const rows = x.shape[0];
  const fused = residual !== undefined;
  const sum = fused ? device.createTensor(x.shape, 'f32') : null;
  const y = device.createTensor(x.shape, 'f32');
  const invRms = device.createTensor([rows], 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', rows],
    ['u32', 'dim', dim],
    ['f32', 'eps', eps],
  ];
  const inputs = [{ name: 'x', type: 'f32' as const }, { name: 'weight', type: 'f32' as const }];
  if (fused) inputs.push({ name: 'residual', type: 'f32' });
  const outputs = [{ name: 'y', type: 'f32' as const }, { name: 'invRms', type: 'f32' as const }];
  if (fused) outputs.push({ name: 'sum', type: 'f32' });
  // The fused form normalizes the f32 sum it stores, so both outputs agree exactly.
  const load = fused ? 'x[base + c] + residual[base + c]' : 'x[base + c]';
  const normalized = fused ? 'sum[base + c]' : 'x[base + c]';
  launch(device, {
    key: fused ? 'nn.addRmsNorm' : 'nn.rmsNorm',
    buffers: fused ? [x, weight, residual, y, invRms, sum!] : [x, weight, y, invRms],
    fields,
    workgroups: rows,
    code: () => `${declarations(inputs, outputs, fields)}
${SHARED}
${rowEntry()}
  let width = select(0u, params.dim, row < params.rows);
  let base = row * params.dim;
  var partial = 0.0;
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    let value = ${load};
    ${fused ? 'sum[base + c] = value;' : ''}
    partial += value * value;
  }
  partials[lane] = partial;
  ${TREE_SUM}
  let inv = inverseSqrt(partials[0] / f32(params.dim) + params.eps);
  for (var c = lane; c < width; c += ${WORKGROUP}u) { y[base + c] = ${normalized} * inv * weight[c]; }
  if (lane == 0u && row < params.rows) { invRms[row] = inv; }
}`,
  });
  return fused ? [sum!, y, invRms] : [y, invRms];
}

export function rmsNormBackward(dy: Tensor, x: Tensor, weight: Tensor, invRms: Tensor): [Tensor, Tensor] {
  const device = gpuOf(x);
  const dim = x.shape[1];
  const rows = x.shape[0];
  const dx = device.createTensor(x.shape, 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', rows],
    ['u32', 'dim', dim],
  ];
  launch(device, {
    key: 'nn.rmsNormBackward',
    buffers: [dy, x, weight, invRms, dx],
    fields,
    workgroups: rows,
    code: () => `${declarations(
      [
        { name: 'dy', type: 'f32' },
        { name: 'x', type: 'f32' },
        { name: 'weight', type: 'f32' },
        { name: 'invRms', type: 'f32' },
      ],
      [{ name: 'dx', type: 'f32' }],
      fields,
    )}
${SHARED}
${rowEntry()}
  let width = select(0u, params.dim, row < params.rows);
  let base = row * params.dim;
  let inv = select(0.0, invRms[min(row, params.rows - 1u)], row < params.rows);
  var partial = 0.0;
  for (var c = lane; c < width; c += ${WORKGROUP}u) { partial += dy[base + c] * weight[c] * x[base + c] * inv; }
  partials[lane] = partial;
  ${TREE_SUM}
  let mean = partials[0] / f32(params.dim);
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    dx[base + c] = inv * (dy[base + c] * weight[c] - x[base + c] * inv * mean);
  }
}`,
  });
  return [dx, scaledColumnSum('nn.rmsNormWeightGrad', dy, x, invRms, null)];
}

/**
 * Σ_rows dy·(x − mean)·inv per column: the norm-weight gradient. `mean` null means 0 (RMSNorm).
 */
function scaledColumnSum(key: string, dy: Tensor, x: Tensor, inv: Tensor, mean: Tensor | null): Tensor {
  const device = gpuOf(x);
  const dim = x.shape[1];
  const out = device.createTensor([dim], 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', x.shape[0]],
    ['u32', 'dim', dim],
  ];
  const inputs = [
    { name: 'dy', type: 'f32' as const },
    { name: 'x', type: 'f32' as const },
    { name: 'inv', type: 'f32' as const },
  ];
  if (mean) inputs.push({ name: 'mean', type: 'f32' });
  launch(device, {
    key,
    buffers: mean ? [dy, x, inv, mean, out] : [dy, x, inv, out],
    fields,
    workgroups: groupsFor(dim),
    code: () => `${declarations(inputs, [{ name: 'out', type: 'f32' }], fields)}
${linearEntry('params.dim')}
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let i = r * params.dim + index;
    sum += dy[i] * (x[i]${mean ? ' - mean[r]' : ''}) * inv[r];
  }
  out[index] = sum;
}`,
  });
  return out;
}

/**
 * LayerNorm of x, or with `residual` of s = x + residual (then s is written too,
 * saving a separate pass for the residual add). Returns [y, mean, invStd] or [s, y, mean, invStd].
 */
export function layerNormForward(x: Tensor, weight: Tensor, bias: Tensor | undefined, eps: number, residual?: Tensor): Tensor[] {
  const device = gpuOf(x);
  const dim = x.shape[1];
  const rows = x.shape[0];
  const fused = residual !== undefined;
  const sum = fused ? device.createTensor(x.shape, 'f32') : null;
  const y = device.createTensor(x.shape, 'f32');
  const mean = device.createTensor([rows], 'f32');
  const invStd = device.createTensor([rows], 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', rows],
    ['u32', 'dim', dim],
    ['f32', 'eps', eps],
    ['u32', 'hasBias', bias ? 1 : 0],
  ];
  const inputs = [
    { name: 'x', type: 'f32' as const },
    { name: 'weight', type: 'f32' as const },
    { name: 'bias', type: 'f32' as const },
  ];
  if (fused) inputs.push({ name: 'residual', type: 'f32' });
  const outputs = [
    { name: 'y', type: 'f32' as const },
    { name: 'meanOut', type: 'f32' as const },
    { name: 'invStdOut', type: 'f32' as const },
  ];
  if (fused) outputs.push({ name: 'sum', type: 'f32' });
  // Each lane reads back only the sum elements it wrote itself, so no barrier is needed between the passes.
  const source = fused ? 'sum[base + c]' : 'x[base + c]';
  launch(device, {
    key: fused ? 'nn.addLayerNorm' : 'nn.layerNorm',
    // Without a bias, the weight is bound in its place and never read.
    buffers: fused ? [x, weight, bias ?? weight, residual, y, mean, invStd, sum!] : [x, weight, bias ?? weight, y, mean, invStd],
    fields,
    workgroups: rows,
    code: () => `${declarations(inputs, outputs, fields)}
${SHARED}
${rowEntry()}
  let width = select(0u, params.dim, row < params.rows);
  let base = row * params.dim;
  var partial = 0.0;
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    ${fused ? 'sum[base + c] = x[base + c] + residual[base + c];' : ''}
    partial += ${source};
  }
  partials[lane] = partial;
  ${TREE_SUM}
  let mu = partials[0] / f32(params.dim);
  workgroupBarrier();
  partial = 0.0;
  for (var c = lane; c < width; c += ${WORKGROUP}u) { let d = ${source} - mu; partial += d * d; }
  partials[lane] = partial;
  ${TREE_SUM}
  let inv = inverseSqrt(partials[0] / f32(params.dim) + params.eps);
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    let b = select(0.0, bias[c], params.hasBias == 1u);
    y[base + c] = (${source} - mu) * inv * weight[c] + b;
  }
  if (lane == 0u && row < params.rows) { meanOut[row] = mu; invStdOut[row] = inv; }
}`,
  });
  return fused ? [sum!, y, mean, invStd] : [y, mean, invStd];
}

export function layerNormBackward(dy: Tensor, x: Tensor, weight: Tensor, mean: Tensor, invStd: Tensor): [Tensor, Tensor, Tensor] {
  const device = gpuOf(x);
  const dim = x.shape[1];
  const rows = x.shape[0];
  const dx = device.createTensor(x.shape, 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', rows],
    ['u32', 'dim', dim],
  ];
  launch(device, {
    key: 'nn.layerNormBackward',
    buffers: [dy, x, weight, mean, invStd, dx],
    fields,
    workgroups: rows,
    code: () => `${declarations(
      [
        { name: 'dy', type: 'f32' },
        { name: 'x', type: 'f32' },
        { name: 'weight', type: 'f32' },
        { name: 'mean', type: 'f32' },
        { name: 'invStd', type: 'f32' },
      ],
      [{ name: 'dx', type: 'f32' }],
      fields,
    )}
var<workgroup> partials: array<f32, ${WORKGROUP}>;
var<workgroup> partialsX: array<f32, ${WORKGROUP}>;
${rowEntry()}
  let width = select(0u, params.dim, row < params.rows);
  let base = row * params.dim;
  let safeRow = min(row, params.rows - 1u);
  let mu = mean[safeRow];
  let inv = invStd[safeRow];
  var sumG = 0.0;
  var sumGX = 0.0;
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    let g = dy[base + c] * weight[c];
    sumG += g;
    sumGX += g * (x[base + c] - mu) * inv;
  }
  partials[lane] = sumG;
  partialsX[lane] = sumGX;
  ${treeSum(['partials', 'partialsX'])}
  let meanG = partials[0] / f32(params.dim);
  let meanGX = partialsX[0] / f32(params.dim);
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    let xhat = (x[base + c] - mu) * inv;
    dx[base + c] = inv * (dy[base + c] * weight[c] - meanG - xhat * meanGX);
  }
}`,
  });
  const dWeight = scaledColumnSum('nn.layerNormWeightGrad', dy, x, invStd, mean);
  return [dx, dWeight, columnSumOf(dy)];
}

function columnSumOf(dy: Tensor): Tensor {
  const device = gpuOf(dy);
  const dim = dy.shape[1];
  const out = device.createTensor([dim], 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', dy.shape[0]],
    ['u32', 'dim', dim],
  ];
  launch(device, {
    key: 'nn.columnSumRows',
    buffers: [dy, out],
    fields,
    workgroups: groupsFor(dim),
    code: () => `${declarations([{ name: 'dy', type: 'f32' }], [{ name: 'out', type: 'f32' }], fields)}
${linearEntry('params.dim')}
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) { sum += dy[r * params.dim + index]; }
  out[index] = sum;
}`,
  });
  return out;
}

/** WGSL that reduces (max, sum of exp) pairs across lanes into partialMax[0], partialSum[0]. */
const ONLINE_MERGE = `
  partialMax[lane] = runningMax;
  partialSum[lane] = runningSum;
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (lane < stride) {
      let m1 = partialMax[lane];
      let m2 = partialMax[lane + stride];
      let m = max(m1, m2);
      // Empty lanes hold (-3e38, 0); exp of a huge negative is 0, so they drop out.
      partialSum[lane] = partialSum[lane] * exp(m1 - m) + partialSum[lane + stride] * exp(m2 - m);
      partialMax[lane] = m;
    }
  }
  workgroupBarrier();`;

const ONLINE_SHARED = `var<workgroup> partialMax: array<f32, ${WORKGROUP}>;
var<workgroup> partialSum: array<f32, ${WORKGROUP}>;`;

/** Per-lane online logsumexp over a strided part of a row of `source`. */
function onlineScan(source: string): string {
  return `
  var runningMax = -3.0e38;
  var runningSum = 0.0;
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    let value = ${source}[base + c];
    if (value > runningMax) { runningSum = runningSum * exp(runningMax - value); runningMax = value; }
    runningSum += exp(value - runningMax);
  }`;
}

export function softmaxForward(x: Tensor, log: boolean): Tensor {
  const device = gpuOf(x);
  const dim = x.shape[x.rank - 1];
  const rows = x.size / dim;
  const y = device.createTensor(x.shape, 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', rows],
    ['u32', 'dim', dim],
  ];
  launch(device, {
    key: `nn.softmax.${log ? 'log' : 'plain'}`,
    buffers: [x, y],
    fields,
    workgroups: rows,
    code: () => `${declarations([{ name: 'x', type: 'f32' }], [{ name: 'y', type: 'f32' }], fields)}
${ONLINE_SHARED}
${rowEntry()}
  let width = select(0u, params.dim, row < params.rows);
  let base = row * params.dim;
  ${onlineScan('x')}
  ${ONLINE_MERGE}
  let logSum = partialMax[0] + log(partialSum[0]);
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    ${log ? 'y[base + c] = x[base + c] - logSum;' : 'y[base + c] = exp(x[base + c] - logSum);'}
  }
}`,
  });
  return y;
}

export function softmaxBackward(dy: Tensor, y: Tensor, log: boolean): Tensor {
  const device = gpuOf(y);
  const dim = y.shape[y.rank - 1];
  const rows = y.size / dim;
  const dx = device.createTensor(y.shape, 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', rows],
    ['u32', 'dim', dim],
  ];
  launch(device, {
    key: `nn.softmaxBackward.${log ? 'log' : 'plain'}`,
    buffers: [dy, y, dx],
    fields,
    workgroups: rows,
    code: () => `${declarations([{ name: 'dy', type: 'f32' }, { name: 'y', type: 'f32' }], [{ name: 'dx', type: 'f32' }], fields)}
${SHARED}
${rowEntry()}
  let width = select(0u, params.dim, row < params.rows);
  let base = row * params.dim;
  var partial = 0.0;
  for (var c = lane; c < width; c += ${WORKGROUP}u) { partial += ${log ? 'dy[base + c]' : 'dy[base + c] * y[base + c]'}; }
  partials[lane] = partial;
  ${TREE_SUM}
  let total = partials[0];
  for (var c = lane; c < width; c += ${WORKGROUP}u) {
    ${log ? 'dx[base + c] = dy[base + c] - exp(y[base + c]) * total;' : 'dx[base + c] = y[base + c] * (dy[base + c] - total);'}
  }
}`,
  });
  return dx;
}

/**
 * Computes the fused cross-entropy forward. One workgroup per row computes the
 * row's logsumexp online (no probabilities are stored) and its loss term. A
 * second single-workgroup pass sums the terms in a fixed order into [loss] and [count].
 */
export function crossEntropyForward(logits: Tensor, targets: Tensor, ignoreIndex: number): [Tensor, Tensor, Tensor] {
  const device = gpuOf(logits);
  const [rows, vocab] = logits.shape;
  const logSumExp = device.createTensor([rows], 'f32');
  const rowLoss = device.createTensor([rows], 'f32');
  const fields: UniformField[] = [
    ['u32', 'rows', rows],
    ['u32', 'dim', vocab],
    ['i32', 'ignoreIndex', ignoreIndex],
  ];
  launch(device, {
    key: 'nn.crossEntropyRows',
    buffers: [logits, targets, logSumExp, rowLoss],
    fields,
    workgroups: rows,
    code: () => `${declarations(
      [
        { name: 'logits', type: 'f32' },
        { name: 'targets', type: 'i32' },
      ],
      [
        { name: 'logSumExp', type: 'f32' },
        { name: 'rowLoss', type: 'f32' },
      ],
      fields,
    )}
${ONLINE_SHARED}
${rowEntry()}
  let width = select(0u, params.dim, row < params.rows);
  let base = row * params.dim;
  ${onlineScan('logits')}
  ${ONLINE_MERGE}
  if (lane == 0u && row < params.rows) {
    let lse = partialMax[0] + log(partialSum[0]);
    logSumExp[row] = lse;
    let targetId = targets[row];
    rowLoss[row] = select(lse - logits[base + u32(max(targetId, 0))], 0.0, targetId == params.ignoreIndex);
  }
}`,
  });

  const loss = device.createTensor([1], 'f32');
  const count = device.createTensor([1], 'f32');
  const sumFields: UniformField[] = [
    ['u32', 'rows', rows],
    ['i32', 'ignoreIndex', ignoreIndex],
  ];
  launch(device, {
    key: 'nn.crossEntropyMean',
    buffers: [rowLoss, targets, loss, count],
    fields: sumFields,
    workgroups: 1,
    code: () => `${declarations(
      [
        { name: 'rowLoss', type: 'f32' },
        { name: 'targets', type: 'i32' },
      ],
      [
        { name: 'loss', type: 'f32' },
        { name: 'count', type: 'f32' },
      ],
      sumFields,
    )}
var<workgroup> partials: array<f32, ${WORKGROUP}>;
var<workgroup> partialsCount: array<f32, ${WORKGROUP}>;
${rowEntry()}
  var partial = 0.0;
  var counted = 0.0;
  for (var r = lane; r < params.rows; r += ${WORKGROUP}u) {
    partial += rowLoss[r];
    counted += select(1.0, 0.0, targets[r] == params.ignoreIndex);
  }
  partials[lane] = partial;
  partialsCount[lane] = counted;
  ${treeSum(['partials', 'partialsCount'])}
  if (lane == 0u) {
    count[0] = partialsCount[0];
    loss[0] = select(partials[0] / partialsCount[0], 0.0, partialsCount[0] == 0.0);
  }
}`,
  });
  rowLoss.dispose();
  return [loss, logSumExp, count];
}

/** Σ x² over all elements into a [1] tensor; one workgroup of 256 lanes, fixed summation order. */
export function sumSquares(x: Tensor): Tensor {
  const device = gpuOf(x);
  const out = device.createTensor([1], 'f32');
  const fields: UniformField[] = [['u32', 'count', x.size]];
  launch(device, {
    key: 'nn.sumSquares',
    buffers: [x, out],
    fields,
    workgroups: 1,
    code: () => `${declarations([{ name: 'x', type: 'f32' }], [{ name: 'out', type: 'f32' }], fields)}
var<workgroup> partials: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let lane = lid.x;
  var partial = 0.0;
  for (var i = lane; i < params.count; i += 256u) { let value = x[i]; partial += value * value; }
  partials[lane] = partial;
  ${treeSum(['partials'], 256)}
  if (lane == 0u) { out[0] = partials[0]; }
}`,
  });
  return out;
}
