// Single-precision GEMM on WebAssembly SIMD128, C[M,N] (+)= A[M,K] * B[K,N] on strided views, with the
// same signature as gemmNaive / gemmPacked (kernels/cpu/gemm.ts), against which it is tested.
// Goto/BLIS structure (Van Zee & van de Geijn, "BLIS", ACM TOMS 41(3), 2015, fig. 2):
//   copy A and B into wasm memory (memcpy; strided views keep their strides there)
//   for jc (NC columns): for pc (KC depth): pack B[pc:pc+kc, jc:jc+nc] into NR-wide panels
//     for ic (MC rows): pack A[ic:ic+mc, pc:pc+kc] into MR-tall panels
//       block(): for jr: for ir: MR x NR register tile over kc
//   copy (or add) the C block out of wasm memory into the caller's C
// The packers (v128 copies, or 4x4 shuffle transposes when k is the contiguous dim) and block() are
// emitted (gemm_kernel.ts). Edge panels are zero-padded, so block() only computes full tiles, into a
// padded C block. conv2d builds B in wasm memory already packed (PackedB) and, via gemmPackedInto, has
// C written straight into its output layout there. All arithmetic is float32 (the reference
// accumulates in float64); the test states the tolerance.
// M, N = rows, cols of C; K = contracted dim. MR, NR = register tile; MC, KC, NC = cache blocks.
import type { MatView } from "../cpu/gemm.js";
import { MR, NR, type PackFn } from "./gemm_kernel.js";
import { type SimdRuntime, ensureFloats, getRuntime } from "./runtime.js";

const KC = 256; // A panel 4 KiB + B panel 8 KiB stay in L1 across a tile
const MC = 128; // packed A block 128 KiB, in L2
const NC = 2048; // packed B block 2 MiB, in L3
const M_CHUNK = 1024; // rows of C held in wasm memory at once: the C block is at most M_CHUNK x NC floats

const ALIGN = 16; // floats (64 bytes)

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Float offsets of the packed A, packed B and C blocks for an (M, N, K) problem, and where they end. */
function workspace(M: number, N: number, K: number): { a: number; b: number; c: number; end: number } {
  const kc = Math.min(KC, K);
  const mm = Math.min(M, M_CHUNK);
  const nc = Math.min(NC, N);
  const a = 0;
  const b = a + alignUp(alignUp(Math.min(MC, mm), MR) * kc, ALIGN);
  const c = b + alignUp(alignUp(nc, NR) * kc, ALIGN);
  return { a, b, c, end: c + alignUp(alignUp(mm, MR) * alignUp(nc, NR), ALIGN) };
}

/**
 * Scratch space in wasm memory for callers that build operands there (conv's im2col): reserves `floats`
 * floats past the workspace of an (M, N, K) GEMM and returns the heap view and the scratch offset. Views
 * into it passed to a GEMM of that size are used in place. The heap view is detached if the memory grows
 * (by a later reservation, or a GEMM whose copies do not fit).
 */
export function reserveScratch(M: number, N: number, K: number, floats: number): { heap: Float32Array; offset: number } {
  const rt = getRuntime();
  const offset = workspace(M, N, K).end;
  return { heap: ensureFloats(rt, offset + floats), offset };
}

/** Elements spanned by a strided rows x cols view, or -1 if its strides are negative. */
function span(v: MatView, rows: number, cols: number): number {
  if (v.rowStride < 0 || v.colStride < 0) return -1;
  return (rows - 1) * v.rowStride + (cols - 1) * v.colStride + 1;
}

/** Elements to copy into wasm memory for a JS view (-1 when its span is too sparse to be worth copying). */
function copyPlan(v: MatView, rows: number, cols: number): number {
  const s = span(v, rows, cols);
  return s >= 0 && s <= 2 * rows * cols + 1024 ? s : -1;
}

/**
 * Makes operands resident in wasm memory. Views already there are used in place if they lie past the
 * workspace (wsEnd); the others are copied (memcpy, strides kept) past `used` floats and past the
 * in-place views, unless too sparse to be worth copying: those stay in JS and are packed from there.
 */
function makeResident(rt: SimdRuntime, wsEnd: number, used: number, ops: readonly (readonly [MatView | null, number, number])[]): (MatView | null)[] {
  let end = used;
  const inWasm = ops.map(([v]) => v !== null && v.data.buffer === rt.memory.buffer);
  const inPlace = ops.map(([v], i) => v !== null && inWasm[i] && v.offset >= wsEnd);
  ops.forEach(([v, rows, cols], i) => {
    if (v && v.data.buffer.byteLength === 0) throw new Error("gemmSimd: operand buffer is detached (wasm memory grew after reserveScratch)");
    if (v && inPlace[i]) end = Math.max(end, v.offset + span(v, rows, cols));
  });
  const spans = ops.map(([v, rows, cols], i) => (v && !inPlace[i] ? copyPlan(v, rows, cols) : 0));
  const at = spans.map((s) => {
    end = alignUp(end, ALIGN);
    const here = end;
    end += Math.max(s, 0);
    return here;
  });
  const heap = ensureFloats(rt, end); // may grow: views into the old buffer are rebased on the new one
  return ops.map(([v], i) => {
    if (!v) return null;
    if (inPlace[i]) return { ...v, data: heap };
    const src = inWasm[i] ? heap : v.data; // a view inside the workspace is moved out of it first
    if (spans[i] < 0) return inWasm[i] ? { ...v, data: heap } : v;
    heap.set(src.subarray(v.offset, v.offset + spans[i]), at[i]);
    return { data: heap, offset: at[i], rowStride: v.rowStride, colStride: v.colStride };
  });
}

/**
 * Packs W-wide panels of a (np x kc) slice into dst (float offset in the heap), zero-padding the last
 * panel: dst[q*kc*W + k*W + w] = v(p0 + q*W + w, k0 + k) along the panel dim (stride sp) and k (stride sk).
 * Full panels of a resident view go through the emitted SIMD packers; the rest through the loop below.
 */
function pack(
  rt: SimdRuntime,
  v: MatView,
  sp: number,
  sk: number,
  p0: number,
  np: number,
  k0: number,
  kc: number,
  W: number,
  dst: number,
  contig: PackFn,
  trans: PackFn,
): void {
  let done = 0;
  if (np >= W && v.data.buffer === rt.memory.buffer) {
    const full = Math.floor(np / W);
    const src = (v.offset + p0 * sp + k0 * sk) * 4;
    if (sp === 1) {
      contig(src, sk * 4, dst * 4, kc, full);
      done = full * W;
    } else if (sk === 1) {
      trans(src, sp * 4, dst * 4, kc, full);
      done = full * W;
    }
  }
  if (done < np) packLoop(v, sp, sk, p0 + done, np - done, k0, kc, W, rt.heap, dst + (done / W) * kc * W);
}

function packLoop(v: MatView, sp: number, sk: number, p0: number, np: number, k0: number, kc: number, W: number, dst: Float32Array, dOff: number): void {
  const src = v.data;
  for (let q0 = 0; q0 < np; q0 += W) {
    const w = Math.min(W, np - q0);
    const base = v.offset + (p0 + q0) * sp + k0 * sk;
    const panel = dOff + (q0 / W) * kc * W;
    for (let k = 0; k < kc; k++) {
      const s = base + k * sk;
      const d = panel + k * W;
      for (let ww = 0; ww < W; ww++) dst[d + ww] = ww < w ? src[s + ww * sp] : 0;
    }
  }
}

/**
 * Column groups of C for batched callers: column j of the GEMM goes to c[cOff + i*ldc + g*stride + r]
 * with g = floor(j / width), r = j % width. A plain GEMM is one group of width N.
 */
export interface ColumnGroups {
  width: number;
  stride: number;
}

/**
 * A B operand already packed in wasm memory for all of K (conv's im2col writes it so): NR-column panels,
 * B[k, q*NR + j] at heap[offset + q*K*NR + k*NR + j], zero for columns past N.
 */
export interface PackedB {
  packedOffset: number;
}

function isPackedB(b: MatView | PackedB): b is PackedB {
  return "packedOffset" in b;
}

/** Floats of a PackedB for a K x N operand. */
export function packedBSize(K: number, N: number): number {
  return alignUp(N, NR) * K;
}

/** C[cOff + i*ldc + j] (+)= sum_k A(i,k) B(k,j) on WebAssembly SIMD128 (float32 accumulation). */
export function gemmSimd(
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
  gemmSimdGrouped(M, N, K, a, b, c, cOff, ldc, accumulate, { width: N, stride: 0 });
}

/** gemmSimd with C's columns scattered in groups (see ColumnGroups) and optionally a pre-packed B. */
export function gemmSimdGrouped(
  M: number,
  N: number,
  K: number,
  a: MatView,
  b: MatView | PackedB,
  c: Float32Array,
  cOff: number,
  ldc: number,
  accumulate: boolean,
  groups: ColumnGroups,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!accumulate) for (let j0 = 0; j0 < N; j0 += groups.width) zeroRows(c, cOff + (j0 / groups.width) * groups.stride, ldc, M, Math.min(groups.width, N - j0));
    return;
  }
  const rt = getRuntime();
  const ws = workspace(M, N, K);
  const packed = isPackedB(b) ? b : null;
  const used = packed ? Math.max(ws.end, packed.packedOffset + packedBSize(K, N)) : ws.end;
  const [ra, rb] = makeResident(rt, ws.end, used, [
    [a, M, K],
    [isPackedB(b) ? null : b, K, N],
  ]);
  if (!ra) throw new Error("unreachable: A is always an operand");
  const { block, packContigA, packTransA, packContigB, packTransB } = rt.gemm;
  for (let m0 = 0; m0 < M; m0 += M_CHUNK) {
    const mm = Math.min(M_CHUNK, M - m0);
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      const ldcw = alignUp(nc, NR); // C block row stride in floats
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        let bAddr = ws.b;
        let bStride = kc * NR;
        if (rb) {
          pack(rt, rb, rb.colStride, rb.rowStride, jc, nc, pc, kc, NR, ws.b, packContigB, packTransB);
        } else if (packed) {
          bAddr = packed.packedOffset + (jc / NR) * K * NR + pc * NR;
          bStride = K * NR;
        }
        for (let ic = 0; ic < mm; ic += MC) {
          const mc = Math.min(MC, mm - ic);
          pack(rt, ra, ra.rowStride, ra.colStride, m0 + ic, mc, pc, kc, MR, ws.a, packContigA, packTransA);
          const cAddr = (ws.c + ic * ldcw) * 4;
          block(ws.a * 4, bAddr * 4, bStride * 4, cAddr, ldcw * 4, Math.ceil(mc / MR), Math.ceil(nc / NR), kc, pc > 0 ? 1 : 0);
        }
      }
      copyOut(rt.heap, ws.c, ldcw, mm, jc, nc, c, cOff + m0 * ldc, ldc, accumulate, groups);
    }
  }
}

/**
 * conv's GEMM: C (+)= A x B with A resident in wasm memory and B pre-packed (PackedB), written straight
 * into wasm memory: C(i, j) at heap[cAt + i*ldc + g*groups.stride + r] for column j = g*groups.width + r.
 * Needs M % MR == 0 and groups.width % NR == 0, so full tiles land exactly on C. load: add to C's contents.
 */
export function gemmPackedInto(M: number, N: number, K: number, a: MatView, b: PackedB, cAt: number, ldc: number, groups: ColumnGroups, load: boolean): void {
  if (M % MR !== 0 || groups.width % NR !== 0) throw new Error(`gemmPackedInto: needs M % ${MR} == 0 and group width % ${NR} == 0`);
  const rt = getRuntime();
  if (a.data.buffer !== rt.memory.buffer) throw new Error("gemmPackedInto: A must be in wasm memory");
  const ws = workspace(M, N, K);
  const { block, packContigA, packTransA } = rt.gemm;
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    for (let ic = 0; ic < M; ic += MC) {
      const mc = Math.min(MC, M - ic);
      pack(rt, a, a.rowStride, a.colStride, ic, mc, pc, kc, MR, ws.a, packContigA, packTransA);
      // one block call per run of columns inside a group (a group's columns are contiguous in C)
      for (let j = 0; j < N; ) {
        const g = Math.floor(j / groups.width);
        const r = j - g * groups.width;
        const len = Math.min(groups.width - r, N - j);
        const bAddr = b.packedOffset + (j / NR) * K * NR + pc * NR;
        const cAddr = cAt + ic * ldc + g * groups.stride + r;
        block(ws.a * 4, bAddr * 4, K * NR * 4, cAddr * 4, ldc * 4, mc / MR, Math.ceil(len / NR), kc, load || pc > 0 ? 1 : 0);
        j += len;
      }
    }
  }
}

function zeroRows(c: Float32Array, off: number, ldc: number, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) c.fill(0, off + i * ldc, off + i * ldc + cols);
}

/** Copies (or adds) the rows x [jc, jc+cols) C block at heap[src], row stride ldcw, into c. */
function copyOut(
  heap: Float32Array,
  src: number,
  ldcw: number,
  rows: number,
  jc: number,
  cols: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
  accumulate: boolean,
  groups: ColumnGroups,
): void {
  // split [jc, jc + cols) at column-group boundaries: each segment is a plain strided copy
  for (let j = jc; j < jc + cols; ) {
    const g = Math.floor(j / groups.width);
    const r = j - g * groups.width;
    const len = Math.min(groups.width - r, jc + cols - j);
    const s0 = src + (j - jc);
    const d0 = cOff + g * groups.stride + r;
    for (let i = 0; i < rows; i++) {
      const s = s0 + i * ldcw;
      const d = d0 + i * ldc;
      if (accumulate) {
        for (let t = 0; t < len; t++) c[d + t] += heap[s + t];
      } else if (len >= 64) {
        c.set(heap.subarray(s, s + len), d);
      } else {
        for (let t = 0; t < len; t++) c[d + t] = heap[s + t];
      }
    }
    j += len;
  }
}
