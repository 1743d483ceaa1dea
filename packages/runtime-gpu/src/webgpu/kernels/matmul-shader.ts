/**
 * WGSL for register-blocked matmul: C = α·op(A)·op(B) + β·C + bias.
 *
 * A workgroup of WG_X × WG_Y threads computes a TILE_M × TILE_N output tile;
 * each thread owns ROWS × (4·VEC_COLS) outputs kept in vec4 registers. Per
 * step of TILE_K, the workgroup stages an A tile and a B tile of vec4 rows in
 * workgroup memory. The A tile is k-major, so a thread reads its ROWS values
 * of one k contiguously. Then every thread runs a fully unrolled k loop of
 * vec4 FMAs.
 *
 * All addressing goes through uniforms (sizes, leading dimensions, element
 * offsets, batch strides), so one pipeline serves every shape and the host
 * can bind windows of buffers larger than one binding. Only the dtype, the
 * transposes, the tile configuration and the triangular (SYRK) mode are
 * compiled in. Accumulation is always f32; f16 storage is converted on load
 * and store.
 */
import type { DType } from '../../dtype.js';

export interface MatmulTileConfig {
  wgX: number;
  wgY: number;
  /** Output rows per thread. */
  rows: number;
  /** vec4 output columns per thread. */
  vecCols: number;
  tileK: number;
}

export interface MatmulShaderConfig {
  dtype: DType;
  transA: boolean;
  transB: boolean;
  tile: MatmulTileConfig;
  /** Only tiles on or above the diagonal are computed (C symmetric, e.g. XᵀX). */
  triangular: boolean;
}

/** Uniform field order; matmul.ts packs values in this order. */
export const MATMUL_UNIFORMS = [
  'M', 'N', 'K', 'lda', 'ldb', 'ldc', 'aOffset', 'bOffset', 'cOffset', 'aBatchStride', 'bBatchStride', 'cBatchStride',
  'alpha', 'beta', 'hasBias', 'biasOffset', 'tilesN',
] as const;

export function tileShape(tile: MatmulTileConfig): { tileM: number; tileN: number } {
  return { tileM: tile.wgY * tile.rows, tileN: tile.wgX * tile.vecCols * 4 };
}

export function matmulKey(config: MatmulShaderConfig): string {
  const { tile } = config;
  return `matmul:${config.dtype}:tA${+config.transA}:tB${+config.transB}:tri${+config.triangular}:${tile.wgX}x${tile.wgY}:r${tile.rows}:v${tile.vecCols}:k${tile.tileK}`;
}

export function matmulShader(config: MatmulShaderConfig): string {
  const { tile, dtype } = config;
  const { tileM, tileN } = tileShape(tile);
  const threads = tile.wgX * tile.wgY;
  const tileK = tile.tileK;
  const element = dtype === 'f16' ? 'f16' : 'f32';
  const aLoads = Math.ceil((tileM * tileK) / threads);
  const bLoads = Math.ceil((tileK * tileN) / threads);

  const aIndex = config.transA ? 'k * p.lda + i' : 'i * p.lda + k';
  const bIndex = config.transB ? 'j * p.ldb + k' : 'k * p.ldb + j';

  const accDecl = Array.from({ length: tile.rows * tile.vecCols }, (_, i) => `var acc${i} = vec4<f32>(0.0);`).join('\n  ');

  // Unrolled inner product over one k step of the staged tiles.
  const inner: string[] = [];
  for (let v = 0; v < tile.vecCols; v++) inner.push(`let b${v} = tileB[kk][tx + ${v * tile.wgX}u];`);
  for (let r = 0; r < tile.rows; r++) {
    inner.push(`let a${r} = tileA[kk][ty * ${tile.rows}u + ${r}u];`);
    for (let v = 0; v < tile.vecCols; v++) {
      inner.push(`acc${r * tile.vecCols + v} = fma(vec4<f32>(a${r}), b${v}, acc${r * tile.vecCols + v});`);
    }
  }
  const unrolled: string[] = [];
  for (let kk = 0; kk < tileK; kk++) unrolled.push(`{\n      let kk = ${kk}u;\n      ${inner.join('\n      ')}\n    }`);

  const stores: string[] = [];
  for (let r = 0; r < tile.rows; r++) {
    for (let v = 0; v < tile.vecCols; v++) {
      stores.push(`storeVec(row0 + ${r}u, col0 + ${v * tile.wgX * 4}u, acc${r * tile.vecCols + v}, batch);`);
    }
  }

  const tileOrigin = config.triangular
    ? `// Linear upper-triangle tile id t → (tileRow ≤ tileCol): column c holds tiles t = c(c+1)/2 .. c(c+1)/2 + c.
  let t = wid.x;
  var tc = u32((sqrt(8.0 * f32(t) + 1.0) - 1.0) * 0.5);
  if ((tc + 1u) * (tc + 2u) / 2u <= t) { tc = tc + 1u; }
  if (tc * (tc + 1u) / 2u > t) { tc = tc - 1u; }
  let tr = t - tc * (tc + 1u) / 2u;
  let tileRow = tr * ${tileM}u;
  let tileCol = tc * ${tileN}u;`
    : `let tileRow = wid.y * ${tileM}u;
  let tileCol = wid.x * ${tileN}u;`;

  return `${dtype === 'f16' ? 'enable f16;\n' : ''}
struct Params {
  ${MATMUL_UNIFORMS.map((name) => `${name}: ${name === 'alpha' || name === 'beta' ? 'f32' : 'u32'},`).join('\n  ')}
}

@group(0) @binding(0) var<storage, read> a: array<${element}>;
@group(0) @binding(1) var<storage, read> b: array<${element}>;
@group(0) @binding(2) var<storage, read_write> c: array<${element}>;
@group(0) @binding(3) var<storage, read> bias: array<${element}>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> tileA: array<array<f32, ${tileM}>, ${tileK}>;
var<workgroup> tileB: array<array<vec4<f32>, ${tileN / 4}>, ${tileK}>;

fn loadA(i: u32, k: u32, batch: u32) -> f32 {
  if (i >= p.M || k >= p.K) { return 0.0; }
  return f32(a[p.aOffset + batch * p.aBatchStride + ${aIndex}]);
}

fn loadB(k: u32, j: u32, batch: u32) -> f32 {
  if (k >= p.K || j >= p.N) { return 0.0; }
  return f32(b[p.bOffset + batch * p.bBatchStride + ${bIndex}]);
}

fn storeOne(i: u32, j: u32, value: f32, batch: u32) {
  if (i >= p.M || j >= p.N) { return; }
  let index = p.cOffset + batch * p.cBatchStride + i * p.ldc + j;
  var result = p.alpha * value;
  if (p.beta != 0.0) { result = result + p.beta * f32(c[index]); }
  if (p.hasBias != 0u) { result = result + f32(bias[p.biasOffset + j]); }
  c[index] = ${element}(result);
}

fn storeVec(i: u32, j: u32, value: vec4<f32>, batch: u32) {
  storeOne(i, j, value.x, batch);
  storeOne(i, j + 1u, value.y, batch);
  storeOne(i, j + 2u, value.z, batch);
  storeOne(i, j + 3u, value.w, batch);
}

@compute @workgroup_size(${tile.wgX}, ${tile.wgY}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  ${tileOrigin}
  let batch = wid.z;
  let tx = lid.x;
  let ty = lid.y;
  ${accDecl}

  for (var k0 = 0u; k0 < p.K; k0 = k0 + ${tileK}u) {
    // Stage A as tileA[k][m] and B as tileB[k][n/4]; out-of-range entries load as 0.
    for (var l = 0u; l < ${aLoads}u; l = l + 1u) {
      let e = li + l * ${threads}u;
      if (e < ${tileM * tileK}u) {
        ${config.transA ? `let kk = e / ${tileM}u; let mm = e % ${tileM}u;` : `let mm = e / ${tileK}u; let kk = e % ${tileK}u;`}
        tileA[kk][mm] = loadA(tileRow + mm, k0 + kk, batch);
      }
    }
    for (var l = 0u; l < ${bLoads}u; l = l + 1u) {
      let e = li + l * ${threads}u;
      if (e < ${tileK * tileN}u) {
        ${config.transB ? `let nn = e / ${tileK}u; let kk = e % ${tileK}u;` : `let kk = e / ${tileN}u; let nn = e % ${tileN}u;`}
        tileB[kk][nn / 4u][nn % 4u] = loadB(k0 + kk, tileCol + nn, batch);
      }
    }
    workgroupBarrier();

    ${unrolled.join('\n    ')}
    workgroupBarrier();
  }

  let row0 = tileRow + ty * ${tile.rows}u;
  let col0 = tileCol + tx * 4u;
  ${stores.join('\n  ')}
}
`;
}
