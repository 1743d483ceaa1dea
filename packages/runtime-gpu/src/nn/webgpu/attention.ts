/**
 * Attention in WGSL. The forward kernel gives each (batch, head, query) one
 * invocation that streams over the keys with an online softmax (running max
 * and denominator, rescaling the accumulator). So the score matrix never
 * exists, and the kernel saves each row's logsumexp.
 *
 * The backward pass recomputes the probabilities from that logsumexp (exact,
 * O(seq) memory) in two kernels. One invocation per query row computes dQ and
 * Δ = Σ dO·O; then one invocation per key row computes dK and dV, looping over
 * the query heads of its group. Every gradient has one owning invocation, so
 * no atomics are needed.
 *
 * Head vectors live in function-scope arrays sized by the head dimension,
 * which is compiled into the pipeline (one pipeline per head size).
 *
 * NOTE: every invocation reads its keys and values from global memory. A
 * variant that staged K/V tiles in workgroup memory, as flash-attention kernels
 * do, ran no faster on lavapipe (about 0.2 GFLOP/s at B4 H8 S512 D64 either way,
 * bench/nn.ts). Neither has been measured on a hardware GPU.
 */
import { ShapeError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import type { AttentionParams } from '../cpu/attention.js';
import { declarations, gpuOf, groupsFor, launch, linearEntry, type UniformField } from './launch.js';

/** Largest head dimension the kernels compile for (registers per invocation grow with it). */
export const MAX_HEAD_DIM = 256;

/** logsumexp stored for a query with no visible key; backward treats the row as absent. */
const EMPTY_ROW = '-3.0e38';

function fieldsOf(params: AttentionParams, hasMask: boolean): UniformField[] {
  return [
    ['u32', 'batch', params.batch],
    ['u32', 'queryLength', params.queryLength],
    ['u32', 'keyLength', params.keyLength],
    ['u32', 'keyCapacity', params.keyCapacity],
    ['u32', 'heads', params.heads],
    ['u32', 'kvHeads', params.kvHeads],
    ['u32', 'causal', params.causal ? 1 : 0],
    ['u32', 'hasMask', hasMask ? 1 : 0],
    ['f32', 'scale', params.scale],
  ];
}

/** WGSL helpers shared by the three kernels; HEAD_DIM is the compiled head size. */
function prelude(headDim: number): string {
  return `
const HEAD_DIM = ${headDim}u;
fn visible(b: u32, i: u32, j: u32) -> bool {
  if (params.causal == 1u && i32(j) > i32(i) + i32(params.keyLength) - i32(params.queryLength)) { return false; }
  if (params.hasMask == 1u && keyMask[b * params.keyCapacity + j] == 0.0) { return false; }
  return true;
}
fn queryBase(b: u32, h: u32, i: u32) -> u32 { return ((b * params.queryLength + i) * params.heads + h) * HEAD_DIM; }
fn keyBase(b: u32, kvh: u32, j: u32) -> u32 { return ((b * params.keyCapacity + j) * params.kvHeads + kvh) * HEAD_DIM; }
fn rowIndex(b: u32, h: u32, i: u32) -> u32 { return (b * params.heads + h) * params.queryLength + i; }`;
}

/** WGSL that splits a query-row invocation index into query i, head h, batch b and its key/value head kvh. */
const QUERY_ROW = `
  let i = index % params.queryLength;
  let h = (index / params.queryLength) % params.heads;
  let b = index / (params.queryLength * params.heads);
  let kvh = h / (params.heads / params.kvHeads);`;

function checkHeadDim(params: AttentionParams): void {
  if (params.headDim > MAX_HEAD_DIM) throw new ShapeError(`attention: headDim=${params.headDim} exceeds the webgpu kernel's maximum of ${MAX_HEAD_DIM}`);
}

export function attentionForward(q: Tensor, k: Tensor, v: Tensor, keyMask: Tensor | undefined, params: AttentionParams): [Tensor, Tensor] {
  checkHeadDim(params);
  const device = gpuOf(q);
  const out = device.createTensor(q.shape, 'f32');
  const rows = params.batch * params.heads * params.queryLength;
  const logSumExp = device.createTensor([rows], 'f32');
  const fields = fieldsOf(params, keyMask !== undefined);
  launch(device, {
    key: `nn.attention.d${params.headDim}`,
    // Without a mask, q is bound in the mask's slot and never read.
    buffers: [q, k, v, keyMask ?? q, out, logSumExp],
    fields,
    workgroups: groupsFor(rows),
    code: () => `${declarations(
      [
        { name: 'q', type: 'f32' },
        { name: 'k', type: 'f32' },
        { name: 'v', type: 'f32' },
        { name: 'keyMask', type: 'f32' },
      ],
      [
        { name: 'out', type: 'f32' },
        { name: 'logSumExp', type: 'f32' },
      ],
      fields,
    )}
${prelude(params.headDim)}
${linearEntry('params.batch * params.heads * params.queryLength')}
${QUERY_ROW}
  let qBase = queryBase(b, h, i);
  var query: array<f32, HEAD_DIM>;
  var accumulator: array<f32, HEAD_DIM>;
  for (var d = 0u; d < HEAD_DIM; d++) { query[d] = q[qBase + d] * params.scale; accumulator[d] = 0.0; }
  var runningMax = ${EMPTY_ROW};
  var denominator = 0.0;
  for (var j = 0u; j < params.keyLength; j++) {
    if (!visible(b, i, j)) { continue; }
    let kBase = keyBase(b, kvh, j);
    var score = 0.0;
    for (var d = 0u; d < HEAD_DIM; d++) { score += query[d] * k[kBase + d]; }
    let newMax = max(runningMax, score);
    let correction = exp(runningMax - newMax);
    let weight = exp(score - newMax);
    denominator = denominator * correction + weight;
    for (var d = 0u; d < HEAD_DIM; d++) { accumulator[d] = accumulator[d] * correction + weight * v[kBase + d]; }
    runningMax = newMax;
  }
  let inverse = select(0.0, 1.0 / denominator, denominator > 0.0);
  for (var d = 0u; d < HEAD_DIM; d++) { out[qBase + d] = accumulator[d] * inverse; }
  logSumExp[rowIndex(b, h, i)] = select(${EMPTY_ROW}, runningMax + log(denominator), denominator > 0.0);
}`,
  });
  return [out, logSumExp];
}

export function attentionBackward(
  dOut: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  logSumExp: Tensor,
  keyMask: Tensor | undefined,
  params: AttentionParams,
): [Tensor, Tensor, Tensor] {
  checkHeadDim(params);
  const device = gpuOf(q);
  const rows = params.batch * params.heads * params.queryLength;
  const fields = fieldsOf(params, keyMask !== undefined);
  const dq = device.createTensor(q.shape, 'f32');
  const delta = device.createTensor([rows], 'f32');

  launch(device, {
    key: `nn.attentionBackwardQuery.d${params.headDim}`,
    buffers: [dOut, q, k, v, out, logSumExp, keyMask ?? q, dq, delta],
    fields,
    workgroups: groupsFor(rows),
    code: () => `${declarations(
      [
        { name: 'dOut', type: 'f32' },
        { name: 'q', type: 'f32' },
        { name: 'k', type: 'f32' },
        { name: 'v', type: 'f32' },
        { name: 'out', type: 'f32' },
        { name: 'logSumExp', type: 'f32' },
        { name: 'keyMask', type: 'f32' },
      ],
      [
        { name: 'dq', type: 'f32' },
        { name: 'delta', type: 'f32' },
      ],
      fields,
    )}
${prelude(params.headDim)}
${linearEntry('params.batch * params.heads * params.queryLength')}
${QUERY_ROW}
  let qBase = queryBase(b, h, i);
  let lse = logSumExp[rowIndex(b, h, i)];
  var query: array<f32, HEAD_DIM>;
  var gradOut: array<f32, HEAD_DIM>;
  var gradQuery: array<f32, HEAD_DIM>;
  var rowDelta = 0.0;
  for (var d = 0u; d < HEAD_DIM; d++) {
    query[d] = q[qBase + d];
    gradOut[d] = dOut[qBase + d];
    gradQuery[d] = 0.0;
    rowDelta += gradOut[d] * out[qBase + d];
  }
  if (lse > ${EMPTY_ROW}) {
    for (var j = 0u; j < params.keyLength; j++) {
      if (!visible(b, i, j)) { continue; }
      let kBase = keyBase(b, kvh, j);
      var score = 0.0;
      var gradProb = 0.0;
      for (var d = 0u; d < HEAD_DIM; d++) {
        score += query[d] * k[kBase + d];
        gradProb += gradOut[d] * v[kBase + d];
      }
      let probability = exp(score * params.scale - lse);
      let gradScore = probability * (gradProb - rowDelta) * params.scale;
      for (var d = 0u; d < HEAD_DIM; d++) { gradQuery[d] += gradScore * k[kBase + d]; }
    }
  }
  for (var d = 0u; d < HEAD_DIM; d++) { dq[qBase + d] = gradQuery[d]; }
  delta[rowIndex(b, h, i)] = rowDelta;
}`,
  });

  const dk = device.createTensor(k.shape, 'f32');
  const dv = device.createTensor(v.shape, 'f32');
  const keyRows = params.batch * params.kvHeads * params.keyCapacity;
  launch(device, {
    key: `nn.attentionBackwardKey.d${params.headDim}`,
    buffers: [dOut, q, k, v, logSumExp, delta, keyMask ?? q, dk, dv],
    fields,
    workgroups: groupsFor(keyRows),
    code: () => `${declarations(
      [
        { name: 'dOut', type: 'f32' },
        { name: 'q', type: 'f32' },
        { name: 'k', type: 'f32' },
        { name: 'v', type: 'f32' },
        { name: 'logSumExp', type: 'f32' },
        { name: 'delta', type: 'f32' },
        { name: 'keyMask', type: 'f32' },
      ],
      [
        { name: 'dk', type: 'f32' },
        { name: 'dv', type: 'f32' },
      ],
      fields,
    )}
${prelude(params.headDim)}
${linearEntry('params.batch * params.kvHeads * params.keyCapacity')}
  let j = index % params.keyCapacity;
  let kvh = (index / params.keyCapacity) % params.kvHeads;
  let b = index / (params.keyCapacity * params.kvHeads);
  let group = params.heads / params.kvHeads;
  let kBase = keyBase(b, kvh, j);
  var key: array<f32, HEAD_DIM>;
  var value: array<f32, HEAD_DIM>;
  var gradKey: array<f32, HEAD_DIM>;
  var gradValue: array<f32, HEAD_DIM>;
  for (var d = 0u; d < HEAD_DIM; d++) {
    key[d] = k[kBase + d];
    value[d] = v[kBase + d];
    gradKey[d] = 0.0;
    gradValue[d] = 0.0;
  }
  if (j < params.keyLength) {
    for (var g = 0u; g < group; g++) {
      let h = kvh * group + g;
      for (var i = 0u; i < params.queryLength; i++) {
        if (!visible(b, i, j)) { continue; }
        let lse = logSumExp[rowIndex(b, h, i)];
        if (lse <= ${EMPTY_ROW}) { continue; }
        let qBase = queryBase(b, h, i);
        var score = 0.0;
        var gradProb = 0.0;
        for (var d = 0u; d < HEAD_DIM; d++) {
          score += q[qBase + d] * key[d];
          gradProb += dOut[qBase + d] * value[d];
        }
        let probability = exp(score * params.scale - lse);
        let gradScore = probability * (gradProb - delta[rowIndex(b, h, i)]) * params.scale;
        for (var d = 0u; d < HEAD_DIM; d++) {
          gradValue[d] += probability * dOut[qBase + d];
          gradKey[d] += gradScore * q[qBase + d];
        }
      }
    }
  }
  for (var d = 0u; d < HEAD_DIM; d++) { dk[kBase + d] = gradKey[d]; dv[kBase + d] = gradValue[d]; }
}`,
  });
  delta.dispose();
  return [dq, dk, dv];
}
