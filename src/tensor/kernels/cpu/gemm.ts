// Single-precision GEMM, C[M,N] (+)= A[M,K] * B[K,N], on strided views (so transposes cost nothing).
// gemmNaive is the reference triple loop. gemmPacked follows the Goto/BLIS scheme: B is packed into
// K-major panels NR columns wide, A into panels MR rows tall, and a 4x4 register-tiled micro-kernel walks
// them; loops are blocked by KC (panels stay in L1/L2) and NC. Accumulation is float64 within a KC block.

/** A strided 2-D view: element (i, j) is data[offset + i * rowStride + j * colStride]. */
export interface MatView {
  data: Float32Array;
  offset: number;
  rowStride: number;
  colStride: number;
}

export function view(data: Float32Array, offset: number, rowStride: number, colStride: number): MatView {
  return { data, offset, rowStride, colStride };
}

/** The GEMM signature every backend implements: C[cOff + i*ldc + j] (+)= sum_k A(i,k) B(k,j). */
export type Gemm = (
  M: number,
  N: number,
  K: number,
  a: MatView,
  b: MatView,
  c: Float32Array,
  cOff: number,
  ldc: number,
  accumulate?: boolean,
) => void;

/** C: row-major with leading dimension ldc starting at cOff; accumulate adds to C instead of overwriting. */
export function gemmNaive(
  M: number,
  N: number,
  K: number,
  a: MatView,
  b: MatView,
  c: Float32Array,
  cOff: number,
  ldc: number,
  accumulate = false,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        acc += a.data[a.offset + i * a.rowStride + k * a.colStride] * b.data[b.offset + k * b.rowStride + j * b.colStride];
      }
      const p = cOff + i * ldc + j;
      c[p] = accumulate ? c[p] + acc : acc;
    }
  }
}

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 128;
const NC = 2048;

// Scratch panels reused across calls (single-threaded engine).
let packA = new Float32Array(MC * KC);
let packB = new Float32Array(KC * NC);

function packPanelB(b: MatView, pc: number, kc: number, jc: number, nc: number, dst: Float32Array): void {
  // dst layout: for each NR-wide panel p: kc rows of NR values (zero-padded past nc).
  const { data, offset, rowStride, colStride } = b;
  let q = 0;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const nr = Math.min(NR, nc - j0);
    for (let k = 0; k < kc; k++) {
      const row = offset + (pc + k) * rowStride + (jc + j0) * colStride;
      if (nr === NR && colStride === 1) {
        for (let jj = 0; jj < NR; jj++) dst[q + jj] = data[row + jj];
      } else {
        for (let jj = 0; jj < NR; jj++) dst[q + jj] = jj < nr ? data[row + jj * colStride] : 0;
      }
      q += NR;
    }
  }
}

function packPanelA(a: MatView, ic: number, mc: number, pc: number, kc: number, dst: Float32Array): void {
  // dst layout: for each MR-tall panel: kc columns of MR values (zero-padded past mc).
  const { data, offset, rowStride, colStride } = a;
  let q = 0;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = Math.min(MR, mc - i0);
    const base = offset + (ic + i0) * rowStride + pc * colStride;
    for (let k = 0; k < kc; k++) {
      const p = base + k * colStride;
      for (let ii = 0; ii < MR; ii++) dst[q + ii] = ii < mr ? data[p + ii * rowStride] : 0;
      q += MR;
    }
  }
}

const tile = new Float64Array(MR * NR);

/** 4x4 micro-kernel over one packed A panel and one packed B panel (16 float64 accumulators; a 4x8 tile
 * measured slower in V8 here, its 32 accumulators spill). */
function micro(
  kc: number,
  ap: Float32Array,
  aOff: number,
  bp: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
  mr: number,
  nr: number,
  accumulate: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let pa = aOff;
  let pb = bOff;
  for (let k = 0; k < kc; k++) {
    const a0 = ap[pa], a1 = ap[pa + 1], a2 = ap[pa + 2], a3 = ap[pa + 3];
    const b0 = bp[pb], b1 = bp[pb + 1], b2 = bp[pb + 2], b3 = bp[pb + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    pa += MR;
    pb += NR;
  }
  if (mr === MR && nr === NR) {
    const r0 = cOff, r1 = cOff + ldc, r2 = cOff + 2 * ldc, r3 = cOff + 3 * ldc;
    if (accumulate) {
      c[r0] += c00; c[r0 + 1] += c01; c[r0 + 2] += c02; c[r0 + 3] += c03;
      c[r1] += c10; c[r1 + 1] += c11; c[r1 + 2] += c12; c[r1 + 3] += c13;
      c[r2] += c20; c[r2 + 1] += c21; c[r2 + 2] += c22; c[r2 + 3] += c23;
      c[r3] += c30; c[r3 + 1] += c31; c[r3 + 2] += c32; c[r3 + 3] += c33;
    } else {
      c[r0] = c00; c[r0 + 1] = c01; c[r0 + 2] = c02; c[r0 + 3] = c03;
      c[r1] = c10; c[r1 + 1] = c11; c[r1 + 2] = c12; c[r1 + 3] = c13;
      c[r2] = c20; c[r2 + 1] = c21; c[r2 + 2] = c22; c[r2 + 3] = c23;
      c[r3] = c30; c[r3 + 1] = c31; c[r3 + 2] = c32; c[r3 + 3] = c33;
    }
    return;
  }
  const t = tile;
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
  for (let i = 0; i < mr; i++) {
    const row = cOff + i * ldc;
    for (let j = 0; j < nr; j++) c[row + j] = accumulate ? c[row + j] + t[i * NR + j] : t[i * NR + j];
  }
}

export function gemmPacked(
  M: number,
  N: number,
  K: number,
  a: MatView,
  b: MatView,
  c: Float32Array,
  cOff: number,
  ldc: number,
  accumulate = false,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!accumulate) for (let i = 0; i < M; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + N);
    return;
  }
  if (packA.length < MC * KC) packA = new Float32Array(MC * KC);
  if (packB.length < KC * NC) packB = new Float32Array(KC * NC);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const acc = accumulate || pc > 0;
      packPanelB(b, pc, kc, jc, nc, packB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packPanelA(a, ic, mc, pc, kc, packA);
        for (let j0 = 0; j0 < nc; j0 += NR) {
          const nr = Math.min(NR, nc - j0);
          const bOff = (j0 / NR) * kc * NR;
          for (let i0 = 0; i0 < mc; i0 += MR) {
            const mr = Math.min(MR, mc - i0);
            micro(kc, packA, (i0 / MR) * kc * MR, packB, bOff, c, cOff + (ic + i0) * ldc + jc + j0, ldc, mr, nr, acc);
          }
        }
      }
    }
  }
}
