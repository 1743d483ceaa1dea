/**
 * WGSL for a matmul without workgroup memory, for software adapters such as
 * Mesa lavapipe. There, workgroup barriers and per-lane (divergent) loads are
 * expensive, and the CPU caches make staging tiles useless. So each thread
 * keeps ROWS × 4 outputs in vec4 registers and reads B as one vec4 per k.
 * It reads A with workgroup-uniform addresses, because its rows come from the
 * workgroup id. Measured on a 2-core x86-64 host with lavapipe (LLVM 15,
 * 256-bit), it does about 4× the GFLOP per CPU-second of the tiled kernel in
 * matmul-shader.ts.
 *
 * On lavapipe a storage load costs about the same whether its address is
 * uniform or differs per invocation. It costs far more than a vec4 FMA: an
 * estimated hundred cycles, from timing kernels with the A or B loads removed.
 * So the speed depends on how many FMAs each load feeds.
 *
 * Subgroup mode cuts the A loads. With plain A, invocation s of a subgroup
 * loads one vec4 along K of row i0 + s % 8, and of i0 + 8 + s % 8 and so on.
 * With transposed A, it loads the vec4s along M of k row k + s % 8. Then
 * subgroupBroadcast hands each loaded value to every invocation, so A costs
 * 8 times fewer loads. The mode needs subgroups of at least 8 invocations and
 * uniform control flow in the k loop. So no invocation returns early:
 * out-of-range columns are clamped for loads and skipped at the store.
 *
 * Requirements (checked by matmul.ts): f32, B not transposed, every size,
 * leading dimension and offset a multiple of 4 along the vec4 axes.
 */

/** Rows (plain A) or k steps (transposed A) that one subgroup load of A covers, and the smallest subgroup size supported. */
export const SUBGROUP_ROWS_PER_LOAD = 8;

export interface DirectMatmulConfig {
  transA: boolean;
  /** Output rows per thread; a multiple of 4. */
  rows: number;
  /** Threads per workgroup, along vec4 columns. */
  width: number;
  /** Skip workgroups strictly below the diagonal (symmetric C, e.g. XᵀX). */
  triangular: boolean;
  /** Whether A values are shared through subgroupBroadcast. It needs rows a multiple of 8 and subgroups of at least 8. */
  subgroups: boolean;
  /** k steps per loop iteration of the plain-A subgroup kernel: 4 or 8 (K must then be a multiple of it). Default 4. */
  kUnroll?: number;
  /**
   * vec4 columns per thread of the plain-A subgroup kernel: 1 or 2. With 2, a thread also
   * computes the column `width` vec4s to the right, so each broadcast A value feeds two FMAs. Default 1.
   */
  columnBlocks?: number;
}

/** Uniform field order (all in vec4 units except M, K, alpha, beta, hasBias). */
export const DIRECT_UNIFORMS = ['M', 'N4', 'K', 'lda4', 'ldb4', 'ldc4', 'aOffset4', 'bOffset4', 'cOffset4', 'aBatch4', 'bBatch4', 'cBatch4', 'alpha', 'beta', 'hasBias'] as const;

export function directMatmulKey(config: DirectMatmulConfig): string {
  return `matmul-direct:f32:tA${+config.transA}:r${config.rows}:w${config.width}:tri${+config.triangular}:sg${+config.subgroups}:ku${config.kUnroll ?? 4}:cb${config.columnBlocks ?? 1}`;
}

export function directMatmulShader(config: DirectMatmulConfig): string {
  if (config.subgroups) return subgroupMatmulShader(config);
  const rows = config.rows;
  const accumulators = Array.from({ length: rows }, (_, r) => `var acc${r} = vec4<f32>(0.0);`).join('\n  ');

  // One k step of the transposed-A form: A(i, k) for 4 consecutive rows is one vec4.
  const transposedStep = (k: string): string => {
    const lines = [`let bk = b[bBase + (${k}) * p.ldb4];`];
    for (let q = 0; q < rows / 4; q++) lines.push(`let aq${q} = a[aBase + (${k}) * p.lda4 + ${q}u];`);
    for (let r = 0; r < rows; r++) lines.push(`acc${r} = fma(vec4<f32>(aq${Math.floor(r / 4)}.${'xyzw'[r % 4]}), bk, acc${r});`);
    return `{\n      ${lines.join('\n      ')}\n    }`;
  };

  // Four k steps of the plain form: A(i, k..k+3) for one row is one vec4.
  const plainStep = (): string => {
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) lines.push(`let a${r} = a[aRow${r} + k / 4u];`);
    for (let kk = 0; kk < 4; kk++) {
      lines.push(`let b${kk} = b[bBase + (k + ${kk}u) * p.ldb4];`);
      for (let r = 0; r < rows; r++) lines.push(`acc${r} = fma(vec4<f32>(a${r}.${'xyzw'[kk]}), b${kk}, acc${r});`);
    }
    return lines.join('\n    ');
  };

  const rowBases = config.transA
    ? `let aBase = p.aOffset4 + batch * p.aBatch4 + i0 / 4u;`
    : Array.from({ length: rows }, (_, r) => `let aRow${r} = p.aOffset4 + batch * p.aBatch4 + min(i0 + ${r}u, p.M - 1u) * p.lda4;`).join('\n  ');

  const loop = config.transA
    ? `var k = 0u;
  for (; k + 4u <= p.K; k = k + 4u) {
    ${[0, 1, 2, 3].map((kk) => transposedStep(`k + ${kk}u`)).join('\n    ')}
  }
  for (; k < p.K; k = k + 1u) {
    ${transposedStep('k')}
  }`
    : `for (var k = 0u; k < p.K; k = k + 4u) {
    ${plainStep()}
  }`;

  const stores = Array.from(
    { length: rows },
    (_, r) => `if (i0 + ${r}u < p.M) { store(p.cOffset4 + batch * p.cBatch4 + (i0 + ${r}u) * p.ldc4 + j4, acc${r}, j4); }`,
  ).join('\n  ');

  const skipBelowDiagonal = skipBelowDiagonalLine(config);

  return `${DECLARATIONS}

@compute @workgroup_size(${config.width}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i0 = wid.y * ${rows}u;
  ${skipBelowDiagonal}
  let j4 = wid.x * ${config.width}u + lid.x;
  if (j4 >= p.N4) { return; }
  let batch = wid.z;
  let bBase = p.bOffset4 + batch * p.bBatch4 + j4;
  ${rowBases}
  ${accumulators}

  ${loop}

  ${stores}
}
`;
}

const DECLARATIONS = `struct Params {
  ${DIRECT_UNIFORMS.map((name) => `${name}: ${name === 'alpha' || name === 'beta' ? 'f32' : 'u32'},`).join('\n  ')}
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;

fn store(index: u32, value: vec4<f32>, j4: u32) {
  var result = p.alpha * value;
  if (p.beta != 0.0) { result = result + p.beta * c[index]; }
  if (p.hasBias != 0u) { result = result + bias[j4]; }
  c[index] = result;
}`;

/** Builds the early exit of triangular mode. It depends on the workgroup id only, so whole subgroups leave together. */
function skipBelowDiagonalLine(config: DirectMatmulConfig): string {
  if (!config.triangular) return '';
  return `// Symmetric output: a workgroup whose first row lies below its last column is mirrored later.
  if (i0 >= (wid.x + 1u) * ${config.width * 4 * (config.columnBlocks ?? 1)}u) { return; }`;
}

/** Builds the kernel whose A values travel through subgroupBroadcast (see the file header). */
function subgroupMatmulShader(config: DirectMatmulConfig): string {
  if ((config.columnBlocks ?? 1) > 1 && !config.transA) return wideSubgroupMatmulShader(config);
  const rows = config.rows;
  const accumulators = Array.from({ length: rows }, (_, r) => `var acc${r} = vec4<f32>(0.0);`).join('\n  ');
  const { bases, loop } = config.transA ? transposedSubgroupLoop(rows) : plainSubgroupLoop(rows, config.kUnroll ?? 4);

  const stores = Array.from(
    { length: rows },
    (_, r) => `if (i0 + ${r}u < p.M && inColumns) { store(p.cOffset4 + batch * p.cBatch4 + (i0 + ${r}u) * p.ldc4 + j4, acc${r}, j4); }`,
  ).join('\n  ');

  return `enable subgroups;

${DECLARATIONS}

@compute @workgroup_size(${config.width}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32) {
  let i0 = wid.y * ${rows}u;
  ${skipBelowDiagonalLine(config)}
  let j4 = wid.x * ${config.width}u + lid.x;
  let inColumns = j4 < p.N4;
  let batch = wid.z;
  let bBase = p.bOffset4 + batch * p.bBatch4 + min(j4, p.N4 - 1u);
  ${bases}
  ${accumulators}

  ${loop}

  ${stores}
}
`;
}

/** Builds the plain-A subgroup kernel with `columnBlocks` vec4 columns per thread, `width` vec4s apart. */
function wideSubgroupMatmulShader(config: DirectMatmulConfig): string {
  const rows = config.rows;
  const blocks = config.columnBlocks ?? 1;
  const lines: string[] = [];
  for (let c = 0; c < blocks; c++) {
    lines.push(`let j4_${c} = wid.x * ${config.width * blocks}u + ${c * config.width}u + lid.x;`);
    lines.push(`let bBase${c} = p.bOffset4 + batch * p.bBatch4 + min(j4_${c}, p.N4 - 1u);`);
    for (let r = 0; r < rows; r++) lines.push(`var acc${r}_${c} = vec4<f32>(0.0);`);
  }
  for (let g = 0; g < rows / SUBGROUP_ROWS_PER_LOAD; g++) {
    lines.push(`let aRow${g} = p.aOffset4 + batch * p.aBatch4 + min(i0 + ${g * SUBGROUP_ROWS_PER_LOAD}u + sid % ${SUBGROUP_ROWS_PER_LOAD}u, p.M - 1u) * p.lda4;`);
  }

  const step: string[] = [];
  for (let g = 0; g < rows / SUBGROUP_ROWS_PER_LOAD; g++) step.push(`let aq${g} = a[aRow${g} + k / 4u];`);
  for (let kk = 0; kk < 4; kk++) {
    for (let c = 0; c < blocks; c++) step.push(`let b${kk}_${c} = b[bBase${c} + (k + ${kk}u) * p.ldb4];`);
    for (let r = 0; r < rows; r++) {
      step.push(`let a${kk}_${r} = vec4<f32>(subgroupBroadcast(aq${Math.floor(r / SUBGROUP_ROWS_PER_LOAD)}.${'xyzw'[kk]}, ${r % SUBGROUP_ROWS_PER_LOAD}u));`);
      for (let c = 0; c < blocks; c++) step.push(`acc${r}_${c} = fma(a${kk}_${r}, b${kk}_${c}, acc${r}_${c});`);
    }
  }

  const stores: string[] = [];
  for (let c = 0; c < blocks; c++) {
    for (let r = 0; r < rows; r++) {
      stores.push(`if (i0 + ${r}u < p.M && j4_${c} < p.N4) { store(p.cOffset4 + batch * p.cBatch4 + (i0 + ${r}u) * p.ldc4 + j4_${c}, acc${r}_${c}, j4_${c}); }`);
    }
  }

  return `enable subgroups;

${DECLARATIONS}

@compute @workgroup_size(${config.width}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32) {
  let i0 = wid.y * ${rows}u;
  ${skipBelowDiagonalLine(config)}
  let batch = wid.z;
  ${lines.join('\n  ')}

  for (var k = 0u; k < p.K; k = k + 4u) {
    ${step.join('\n    ')}
  }

  ${stores.join('\n  ')}
}
`;
}

/**
 * Builds the plain-A k loop: per 4 k, ROWS / 8 loads of A, 4 loads of B and 4 · ROWS vec4 FMAs.
 * With kUnroll 8 one iteration covers two vec4s of A per row group.
 */
function plainSubgroupLoop(rows: number, kUnroll: number): { bases: string; loop: string } {
  // Row group g: invocation s loads row i0 + 8g + s % 8, clamped so the last rows stay in bounds.
  const bases = Array.from(
    { length: rows / SUBGROUP_ROWS_PER_LOAD },
    (_, g) => `let aRow${g} = p.aOffset4 + batch * p.aBatch4 + min(i0 + ${g * SUBGROUP_ROWS_PER_LOAD}u + sid % ${SUBGROUP_ROWS_PER_LOAD}u, p.M - 1u) * p.lda4;`,
  ).join('\n  ');

  const step: string[] = [];
  for (let half = 0; half < kUnroll / 4; half++) {
    for (let g = 0; g < rows / SUBGROUP_ROWS_PER_LOAD; g++) step.push(`let aq${half}_${g} = a[aRow${g} + k / 4u + ${half}u];`);
    for (let kk = 0; kk < 4; kk++) {
      step.push(`let b${half}_${kk} = b[bBase + (k + ${half * 4 + kk}u) * p.ldb4];`);
      for (let r = 0; r < rows; r++) {
        const lane = r % SUBGROUP_ROWS_PER_LOAD;
        const group = Math.floor(r / SUBGROUP_ROWS_PER_LOAD);
        step.push(`acc${r} = fma(vec4<f32>(subgroupBroadcast(aq${half}_${group}.${'xyzw'[kk]}, ${lane}u)), b${half}_${kk}, acc${r});`);
      }
    }
  }
  const loop = `for (var k = 0u; k < p.K; k = k + ${kUnroll}u) {
    ${step.join('\n    ')}
  }`;
  return { bases, loop };
}

/**
 * Builds the transposed-A k loop. A(i, k) for 4 consecutive rows is one vec4. Per 8 k,
 * invocation s loads the ROWS / 4 vec4s of k row k + s % 8, and lane kk's values serve step kk.
 * The last K % 8 steps load A with uniform addresses, as the kernel without subgroups does.
 */
function transposedSubgroupLoop(rows: number): { bases: string; loop: string } {
  const step: string[] = [`let kRow = aBase + (k + sid % ${SUBGROUP_ROWS_PER_LOAD}u) * p.lda4;`];
  for (let q = 0; q < rows / 4; q++) step.push(`let aq${q} = a[kRow + ${q}u];`);
  for (let kk = 0; kk < SUBGROUP_ROWS_PER_LOAD; kk++) {
    step.push(`let b${kk} = b[bBase + (k + ${kk}u) * p.ldb4];`);
    for (let r = 0; r < rows; r++) {
      step.push(`acc${r} = fma(vec4<f32>(subgroupBroadcast(aq${Math.floor(r / 4)}.${'xyzw'[r % 4]}, ${kk}u)), b${kk}, acc${r});`);
    }
  }

  const tail = [`let bk = b[bBase + k * p.ldb4];`];
  for (let q = 0; q < rows / 4; q++) tail.push(`let aq${q} = a[aBase + k * p.lda4 + ${q}u];`);
  for (let r = 0; r < rows; r++) tail.push(`acc${r} = fma(vec4<f32>(aq${Math.floor(r / 4)}.${'xyzw'[r % 4]}), bk, acc${r});`);

  const loop = `var k = 0u;
  for (; k + ${SUBGROUP_ROWS_PER_LOAD}u <= p.K; k = k + ${SUBGROUP_ROWS_PER_LOAD}u) {
    ${step.join('\n    ')}
  }
  for (; k < p.K; k = k + 1u) {
    ${tail.join('\n    ')}
  }`;
  return { bases: 'let aBase = p.aOffset4 + batch * p.aBatch4 + i0 / 4u;', loop };
}
