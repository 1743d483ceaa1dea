/**
 * WGSL kernels with one invocation per output element: embedding gather and
 * its segmented backward, RoPE, activations and gated units, the cross-entropy
 * backward, column sums, AdamW and the KV-cache row write.
 */
import type { Tensor } from '../../tensor.js';
import type { ActivationName } from '../reference.js';
import { declarations, gpuOf, groupsFor, launch, linearEntry, type UniformField } from './launch.js';

/** WGSL for activation `name` and its derivative at x, as functions act(x) and actGrad(x). */
export function activationWgsl(name: ActivationName): string {
  // erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), the same form as the cpu kernel.
  const erf = `
fn erfApprox(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}`;
  switch (name) {
    case 'silu':
      return `
fn act(x: f32) -> f32 { return x / (1.0 + exp(-x)); }
fn actGrad(x: f32) -> f32 { let s = 1.0 / (1.0 + exp(-x)); return s * (1.0 + x * (1.0 - s)); }`;
    case 'relu':
      return `
fn act(x: f32) -> f32 { return max(x, 0.0); }
fn actGrad(x: f32) -> f32 { return select(0.0, 1.0, x > 0.0); }`;
    case 'gelu_tanh':
      // tanh is written through exp because large |x| makes some drivers' tanh return NaN.
      return `
fn tanhStable(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
fn act(x: f32) -> f32 { return 0.5 * x * (1.0 + tanhStable(0.7978845608 * (x + 0.044715 * x * x * x))); }
fn actGrad(x: f32) -> f32 {
  let t = tanhStable(0.7978845608 * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.7978845608 * (1.0 + 0.134145 * x * x);
}`;
    case 'gelu_erf':
      return `${erf}
fn act(x: f32) -> f32 { return 0.5 * x * (1.0 + erfApprox(x * 0.7071067812)); }
fn actGrad(x: f32) -> f32 { return 0.5 * (1.0 + erfApprox(x * 0.7071067812)) + x * 0.3989422804 * exp(-0.5 * x * x); }`;
  }
}

// NOTE: ids are not range-checked on webgpu, because that would need a readback. An id outside the vocabulary reads bounds-clamped values instead of failing.
export function embeddingForward(table: Tensor, ids: Tensor): Tensor {
  const device = gpuOf(table);
  const dim = table.shape[1];
  const out = device.createTensor([ids.size, dim], 'f32');
  const fields: UniformField[] = [
    ['u32', 'count', out.size],
    ['u32', 'dim', dim],
  ];
  launch(device, {
    key: 'nn.embedding',
    buffers: [table, ids, out],
    fields,
    workgroups: groupsFor(out.size),
    code: () => `${declarations([{ name: 'table', type: 'f32' }, { name: 'ids', type: 'i32' }], [{ name: 'out', type: 'f32' }], fields)}
${linearEntry('params.count')}
  let token = index / params.dim;
  let column = index % params.dim;
  out[index] = table[u32(ids[token]) * params.dim + column];
}`,
  });
  return out;
}

/**
 * Computes dTable[v, c] = Σ dy[t, c] over tokens t with ids[t] = v, without
 * atomics. Pass 1 ranks every token by (id, position), a stable counting sort
 * that writes `order`. Pass 2 gives each (v, c) one invocation, which
 * binary-searches its segment in the sorted order and sums it in position order.
 */
export function embeddingBackward(dy: Tensor, ids: Tensor, vocab: number): Tensor {
  const device = gpuOf(dy);
  const dim = dy.shape[1];
  const tokens = ids.size;
  const order = device.createTensor([tokens], 'i32');
  const rankFields: UniformField[] = [['u32', 'tokens', tokens]];
  launch(device, {
    key: 'nn.embeddingRank',
    buffers: [ids, order],
    fields: rankFields,
    workgroups: groupsFor(tokens),
    code: () => `${declarations([{ name: 'ids', type: 'i32' }], [{ name: 'order', type: 'i32' }], rankFields)}
${linearEntry('params.tokens')}
  let id = ids[index];
  var rank = 0u;
  for (var u = 0u; u < params.tokens; u++) {
    let other = ids[u];
    if (other < id || (other == id && u < index)) { rank++; }
  }
  order[rank] = i32(index);
}`,
  });

  const dTable = device.createTensor([vocab, dim], 'f32');
  const fields: UniformField[] = [
    ['u32', 'count', vocab * dim],
    ['u32', 'dim', dim],
    ['u32', 'tokens', tokens],
  ];
  launch(device, {
    key: 'nn.embeddingBackward',
    buffers: [dy, ids, order, dTable],
    fields,
    workgroups: groupsFor(vocab * dim),
    code: () => `${declarations(
      [
        { name: 'dy', type: 'f32' },
        { name: 'ids', type: 'i32' },
        { name: 'order', type: 'i32' },
      ],
      [{ name: 'dTable', type: 'f32' }],
      fields,
    )}
${linearEntry('params.count')}
  let row = i32(index / params.dim);
  let column = index % params.dim;
  // Lower bound of row in the sorted ids.
  var low = 0u;
  var high = params.tokens;
  while (low < high) {
    let middle = (low + high) / 2u;
    if (ids[u32(order[middle])] < row) { low = middle + 1u; } else { high = middle; }
  }
  var sum = 0.0;
  for (var m = low; m < params.tokens; m++) {
    let token = u32(order[m]);
    if (ids[token] != row) { break; }
    sum += dy[token * params.dim + column];
  }
  dTable[index] = sum;
}`,
  });
  order.dispose();
  return dTable;
}

export function ropeApply(x: Tensor, positions: Tensor, attrs: Record<string, unknown>): Tensor {
  const device = gpuOf(x);
  const heads = attrs.heads as number;
  const headDim = attrs.headDim as number;
  const out = device.createTensor(x.shape, 'f32');
  const pairs = positions.size * heads * (headDim / 2);
  const fields: UniformField[] = [
    ['u32', 'pairs', pairs],
    ['u32', 'heads', heads],
    ['u32', 'headDim', headDim],
    ['u32', 'interleaved', attrs.layout === 'interleaved' ? 1 : 0],
    ['f32', 'logTheta', Math.log(attrs.theta as number)],
    ['f32', 'inverseScaling', 1 / (attrs.scaling as number)],
    ['f32', 'direction', attrs.direction as number],
  ];
  launch(device, {
    key: 'nn.rope',
    buffers: [x, positions, out],
    fields,
    workgroups: groupsFor(pairs),
    code: () => `${declarations([{ name: 'x', type: 'f32' }, { name: 'positions', type: 'i32' }], [{ name: 'out', type: 'f32' }], fields)}
${linearEntry('params.pairs')}
  let half = params.headDim / 2u;
  let i = index % half;
  let head = (index / half) % params.heads;
  let token = index / (half * params.heads);
  let base = (token * params.heads + head) * params.headDim;
  var a = base + i;
  var b = base + i + half;
  if (params.interleaved == 1u) { a = base + 2u * i; b = a + 1u; }
  // theta^(-2i/headDim), computed in f32; positions beyond ~2^20 lose angle precision.
  let frequency = exp(-2.0 * f32(i) / f32(params.headDim) * params.logTheta);
  let angle = f32(positions[token]) * params.inverseScaling * frequency;
  let c = cos(angle);
  let s = params.direction * sin(angle);
  let xa = x[a];
  let xb = x[b];
  out[a] = xa * c - xb * s;
  out[b] = xa * s + xb * c;
}`,
  });
  return out;
}

export function activationForward(x: Tensor, name: ActivationName): Tensor {
  const device = gpuOf(x);
  const out = device.createTensor(x.shape, 'f32');
  const fields: UniformField[] = [['u32', 'count', x.size]];
  launch(device, {
    key: `nn.activation.${name}`,
    buffers: [x, out],
    fields,
    workgroups: groupsFor(x.size),
    code: () => `${declarations([{ name: 'x', type: 'f32' }], [{ name: 'out', type: 'f32' }], fields)}
${activationWgsl(name)}
${linearEntry('params.count')}
  out[index] = act(x[index]);
}`,
  });
  return out;
}

export function activationBackward(dy: Tensor, x: Tensor, name: ActivationName): Tensor {
  const device = gpuOf(x);
  const dx = device.createTensor(x.shape, 'f32');
  const fields: UniformField[] = [['u32', 'count', x.size]];
  launch(device, {
    key: `nn.activationBackward.${name}`,
    buffers: [dy, x, dx],
    fields,
    workgroups: groupsFor(x.size),
    code: () => `${declarations([{ name: 'dy', type: 'f32' }, { name: 'x', type: 'f32' }], [{ name: 'dx', type: 'f32' }], fields)}
${activationWgsl(name)}
${linearEntry('params.count')}
  dx[index] = dy[index] * actGrad(x[index]);
}`,
  });
  return dx;
}

export function gluForward(gate: Tensor, up: Tensor, name: ActivationName): Tensor {
  const device = gpuOf(gate);
  const out = device.createTensor(gate.shape, 'f32');
  const fields: UniformField[] = [['u32', 'count', gate.size]];
  launch(device, {
    key: `nn.glu.${name}`,
    buffers: [gate, up, out],
    fields,
    workgroups: groupsFor(gate.size),
    code: () => `${declarations([{ name: 'gate', type: 'f32' }, { name: 'up', type: 'f32' }], [{ name: 'out', type: 'f32' }], fields)}
${activationWgsl(name)}
${linearEntry('params.count')}
  out[index] = act(gate[index]) * up[index];
}`,
  });
  return out;
}

export function gluBackward(dy: Tensor, gate: Tensor, up: Tensor, name: ActivationName): [Tensor, Tensor] {
  const device = gpuOf(gate);
  const dGate = device.createTensor(gate.shape, 'f32');
  const dUp = device.createTensor(up.shape, 'f32');
  const fields: UniformField[] = [['u32', 'count', gate.size]];
  launch(device, {
    key: `nn.gluBackward.${name}`,
    buffers: [dy, gate, up, dGate, dUp],
    fields,
    workgroups: groupsFor(gate.size),
    code: () => `${declarations(
      [
        { name: 'dy', type: 'f32' },
        { name: 'gate', type: 'f32' },
        { name: 'up', type: 'f32' },
      ],
      [
        { name: 'dGate', type: 'f32' },
        { name: 'dUp', type: 'f32' },
      ],
      fields,
    )}
${activationWgsl(name)}
${linearEntry('params.count')}
  let g = gate[index];
  dGate[index] = dy[index] * up[index] * actGrad(g);
  dUp[index] = dy[index] * act(g);
}`,
  });
  return [dGate, dUp];
}

export function crossEntropyBackward(
  dLoss: Tensor,
  logits: Tensor,
  targets: Tensor,
  logSumExp: Tensor,
  count: Tensor,
  ignoreIndex: number,
): Tensor {
  const device = gpuOf(logits);
  const dLogits = device.createTensor(logits.shape, 'f32');
  const fields: UniformField[] = [
    ['u32', 'count', logits.size],
    ['u32', 'vocab', logits.shape[1]],
    ['i32', 'ignoreIndex', ignoreIndex],
  ];
  launch(device, {
    key: 'nn.crossEntropyBackward',
    buffers: [dLoss, logits, targets, logSumExp, count, dLogits],
    fields,
    workgroups: groupsFor(logits.size),
    code: () => `${declarations(
      [
        { name: 'dLoss', type: 'f32' },
        { name: 'logits', type: 'f32' },
        { name: 'targets', type: 'i32' },
        { name: 'logSumExp', type: 'f32' },
        { name: 'rowCount', type: 'f32' },
      ],
      [{ name: 'dLogits', type: 'f32' }],
      fields,
    )}
${linearEntry('params.count')}
  let row = index / params.vocab;
  let column = index % params.vocab;
  let targetId = targets[row];
  if (targetId == params.ignoreIndex || rowCount[0] == 0.0) { dLogits[index] = 0.0; return; }
  let scale = dLoss[0] / rowCount[0];
  let probability = exp(logits[index] - logSumExp[row]);
  dLogits[index] = (probability - select(0.0, 1.0, i32(column) == targetId)) * scale;
}`,
  });
  return dLogits;
}

/** Σ over rows per column of x [rows, columns], one invocation per column (deterministic order). */
export function columnSum(x: Tensor): Tensor {
  const device = gpuOf(x);
  const columns = x.shape[x.rank - 1];
  const out = device.createTensor([columns], 'f32');
  const fields: UniformField[] = [
    ['u32', 'columns', columns],
    ['u32', 'rows', x.size / columns],
  ];
  launch(device, {
    key: 'nn.columnSum',
    buffers: [x, out],
    fields,
    workgroups: groupsFor(columns),
    code: () => `${declarations([{ name: 'x', type: 'f32' }], [{ name: 'out', type: 'f32' }], fields)}
${linearEntry('params.columns')}
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) { sum += x[r * params.columns + index]; }
  out[index] = sum;
}`,
  });
  return out;
}

/** Applies one fused AdamW step to param, m and v in place; normSquared [1] drives clipping and overflow skipping. */
export function adamwInplace(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, normSquared: Tensor, attrs: Record<string, unknown>): void {
  const device = gpuOf(param);
  const step = attrs.step as number;
  const beta1 = attrs.beta1 as number;
  const beta2 = attrs.beta2 as number;
  const fields: UniformField[] = [
    ['u32', 'count', param.size],
    ['f32', 'lr', attrs.lr as number],
    ['f32', 'beta1', beta1],
    ['f32', 'beta2', beta2],
    ['f32', 'eps', attrs.eps as number],
    ['f32', 'weightDecay', attrs.weightDecay as number],
    ['f32', 'correction1', 1 - beta1 ** step],
    ['f32', 'correction2', 1 - beta2 ** step],
    ['f32', 'inverseLossScale', 1 / (attrs.lossScale as number)],
    ['f32', 'maxGradNorm', attrs.maxGradNorm as number],
  ];
  launch(device, {
    key: 'nn.adamw',
    buffers: [grad, normSquared, param, m, v],
    fields,
    workgroups: groupsFor(param.size),
    code: () => `${declarations(
      [
        { name: 'grad', type: 'f32' },
        { name: 'normSquared', type: 'f32' },
      ],
      [
        { name: 'param', type: 'f32' },
        { name: 'm', type: 'f32' },
        { name: 'v', type: 'f32' },
      ],
      fields,
    )}
${linearEntry('params.count')}
  let squared = normSquared[0];
  // A non-finite norm means the scaled gradient overflowed: skip the step (NaN fails every comparison).
  if (!(squared >= 0.0 && squared <= 3.0e38)) { return; }
  let norm = sqrt(squared) * params.inverseLossScale;
  var scale = params.inverseLossScale;
  if (params.maxGradNorm > 0.0 && norm > params.maxGradNorm) { scale = scale * params.maxGradNorm / (norm + 1e-6); }
  let g = grad[index] * scale;
  let mNew = params.beta1 * m[index] + (1.0 - params.beta1) * g;
  let vNew = params.beta2 * v[index] + (1.0 - params.beta2) * g * g;
  m[index] = mNew;
  v[index] = vNew;
  let update = mNew / params.correction1 / (sqrt(vNew / params.correction2) + params.eps);
  param[index] = param[index] - params.lr * (update + params.weightDecay * param[index]);
}`,
  });
}

/** Writes `update` [batch·rows, width] into rows [offset, offset + rows) of each batch entry of `cache`. */
export function writeRowsInplace(cache: Tensor, update: Tensor, attrs: Record<string, unknown>): void {
  const device = gpuOf(cache);
  const batch = attrs.batch as number;
  const capacity = attrs.capacity as number;
  const width = cache.size / (batch * capacity);
  const fields: UniformField[] = [
    ['u32', 'count', update.size],
    ['u32', 'width', width],
    ['u32', 'rows', update.size / (batch * width)],
    ['u32', 'capacity', capacity],
    ['u32', 'offset', attrs.offset as number],
  ];
  launch(device, {
    key: 'nn.writeRows',
    buffers: [update, cache],
    fields,
    workgroups: groupsFor(update.size),
    code: () => `${declarations([{ name: 'update', type: 'f32' }], [{ name: 'cache', type: 'f32' }], fields)}
${linearEntry('params.count')}
  let column = index % params.width;
  let row = (index / params.width) % params.rows;
  let b = index / (params.width * params.rows);
  cache[((b * params.capacity) + params.offset + row) * params.width + column] = update[index];
}`,
  });
}
