// Integer GEMM on WebAssembly SIMD128, qgemmNaive's contract (kernels/cpu/qgemm.ts), tested bit for bit against it:
//   C[m, n] = sum_k (A[m, k] - zA) * (B[n, k] - zB[n]) + bias[n]
// M=rows of A N=output channels K=reduction length; B is [N, K] when transposeB, else [K, N].
// Zero points are folded at packing time: the packers (qgemm_kernel.ts) widen codes to int16 and subtract the zero
// point, so the micro-kernel sums exact products of centered values with i32x4.dot_i16x8_s and no correction terms
// remain. C lives in wasm memory, padded to whole MR x NR tiles and preloaded with the bias. Goto/BLIS blocking as
// the fp32 gemm.ts:
//   for jc (nc columns): for pc (KC depth): pack B block; for ic (MC rows): pack A block; block() over the tiles
// then C is compacted in place (rows n apart) and copied out with one set().
// Exactness: every partial sum is bounded like the full sum, which assertNoInt32Overflow bounds by int32 (the
// same check, hence the same largest K, as the reference: 33025 for 8-bit codes with any zero points, 65793 for
// zero-point-0 int8 weights), and int32 adds wrap mod 2^32 anyway, so the result is exact. Codes or zero points
// whose centered values leave int16 (zero points far outside the code range) run on qgemmFast instead.
import { assertNoInt32Overflow } from "../../accumulator.js";
import { INT32_MAX } from "../../fixedpoint.js";
import { ShapeError } from "../../../tensor/shape.js";
import type { QCodes } from "../../qtensor.js";
import { type QBmmParams, type QGemmParams, qgemmFast, storageOperand } from "../cpu/qgemm.js";
import { INIT_LOAD, INIT_ROWS, MR, NR } from "./qgemm_kernel.js";
import { Arena, type QSimdRuntime, ensureBytes, getQRuntime } from "./runtime.js";

const KC = 512; // k values per block (even): A panel 4 KiB and B panel 8 KiB of int16 pairs stay in L1
const MC = 128; // A block 128 KiB, in L2
const NC_MIN = 256; // columns per block: the C block (M x nc int32) about C_BLOCK_INTS, within [NC_MIN, NC_MAX]
const NC_MAX = 2048;
const C_BLOCK_INTS = 65536;
/** Bytes the packers may read past the end of an operand (partial panels of packCols, stride-2 conv loads). */
export const SLACK = 16;
/** Largest |q - zeroPoint| the int16 packing represents. */
export const MAX_CENTERED_INT16 = 32767;

export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** Columns per block for m rows (a multiple of NR). */
function columnBlock(m: number): number {
  return Math.min(NC_MAX, Math.max(NC_MIN, Math.floor(C_BLOCK_INTS / alignUp(m, MR) / NR) * NR));
}

/** max |q - z| over the 8-bit codes of a storage type and the zero point(s) z (accumulator.ts's maxCenteredMagnitude). */
function maxCentered(signed: boolean, zeroPoint: number | Int32Array): number {
  const lo = signed ? -128 : 0;
  const hi = signed ? 127 : 255;
  if (typeof zeroPoint === "number") return Math.max(Math.abs(lo - zeroPoint), Math.abs(hi - zeroPoint));
  let m = 0;
  for (let i = 0; i < zeroPoint.length; i++) m = Math.max(m, Math.abs(lo - zeroPoint[i]), Math.abs(hi - zeroPoint[i]));
  return m;
}

/**
 * The reference kernels' int32 bound (assertNoInt32Overflow, which throws its error when it fails), checked from
 * the precomputed magnitudes; returns whether the centered values fit int16 (else the caller takes the JS path).
 */
export function checkBounds(op: string, k: number, a: QCodes, za: number | Int32Array, b: QCodes, zb: number | Int32Array, bias: Int32Array | null): boolean {
  const ma = maxCentered(a instanceof Int8Array, za);
  const mb = maxCentered(b instanceof Int8Array, zb);
  let maxBias = 0;
  if (bias) for (let i = 0; i < bias.length; i++) maxBias = Math.max(maxBias, Math.abs(bias[i]));
  if (k * ma * mb + maxBias > INT32_MAX) {
    assertNoInt32Overflow(op, k, storageOperand(a instanceof Int8Array, za), storageOperand(b instanceof Int8Array, zb), maxBias);
  }
  return ma <= MAX_CENTERED_INT16 && mb <= MAX_CENTERED_INT16;
}

/** A code array's bytes (an Int8Array reinterpreted, not converted). */
export function bytesOf(x: QCodes): Uint8Array {
  return x instanceof Uint8Array ? x : new Uint8Array(x.buffer, x.byteOffset, x.length);
}

/** Index into the [signed, unsigned] packer pairs. */
export function signIndex(x: QCodes): 0 | 1 {
  return x instanceof Int8Array ? 0 : 1;
}

/**
 * The operand-specific steps of a blocked GEMM; addresses and strides in bytes. C's columns come in segments of
 * `segment` columns (a multiple of NR, or >= n), each contiguous in memory: tile (i, j) at cTile(i, j), rows ldc apart.
 */
export interface BlockedGemm {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly segment: number;
  readonly ldc: number;
  /** Packs rows [i0, i0 + mc) of A, k in [pc, pc + kc), into MR-row panels at dst. */
  packA(i0: number, mc: number, pc: number, kc: number, dst: number): void;
  /** Packs columns [jc, jc + nc) of B, k in [pc, pc + kc), into NR-column panels at dst (or finds them packed). */
  packB(jc: number, nc: number, pc: number, kc: number, dst: number): { at: number; stride: number };
  cTile(i: number, j: number): number;
  /**
   * Byte address of the int32 start values of rows i0, i0 + 1, ... (a bias; MR - 1 readable values past the last
   * row): the first k block starts from them instead of from C. Absent: C is loaded, preloaded by the caller.
   */
  rowInit?(i0: number): number;
}

export interface Workspace {
  a: number;
  b: number;
}

/** Reserves the packed-A and (unless B comes packed) packed-B regions of an (m, n, k) problem. */
export function reserveWorkspace(arena: Arena, m: number, n: number, k: number, bPacked: boolean): Workspace {
  const kp = Math.ceil(Math.min(KC, k) / 2);
  const a = arena.take(alignUp(Math.min(MC, m), MR) * kp * 4);
  const b = bPacked ? -1 : arena.take(alignUp(Math.min(columnBlock(m), n), NR) * kp * 4);
  return { a, b };
}

/** The Goto/BLIS loops around block(), accumulating onto C (preloaded, or started from g.rowInit); needs m, n, k >= 1 and memory grown. */
export function runBlocked(rt: QSimdRuntime, ws: Workspace, g: BlockedGemm): void {
  const { m, n, k, segment, ldc } = g;
  const block = rt.k.block;
  const ncMax = columnBlock(m);
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = Math.min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const kp = Math.ceil(kc / 2);
      const b = g.packB(jc, nc, pc, kc, ws.b);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        g.packA(ic, mc, pc, kc, ws.a);
        const fromRows = pc === 0 && g.rowInit ? g.rowInit(ic) : -1;
        const init = fromRows >= 0 ? INIT_ROWS : INIT_LOAD;
        // one block() per run of columns inside a segment
        for (let j = jc; j < jc + nc; ) {
          const end = Math.min((Math.floor(j / segment) + 1) * segment, jc + nc);
          block(ws.a, b.at + ((j - jc) / NR) * b.stride, b.stride, g.cTile(ic, j), ldc, Math.ceil(mc / MR), Math.ceil((end - j) / NR), kp, init, fromRows);
          j = end;
        }
      }
    }
  }
}

function validate(op: string, a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams): boolean {
  const { m, n, k } = p;
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(op, `${name} must be a non-negative integer, got ${v}`);
  }
  if (a.length !== m * k) throw new ShapeError(op, `A must be [M=${m}, K=${k}] (${m * k} codes), got ${a.length}`);
  if (b.length !== n * k) throw new ShapeError(op, `B must hold N*K = ${n * k} codes, got ${b.length}`);
  if (bias && bias.length !== n) throw new ShapeError(op, `bias must be [N=${n}], got ${bias.length}`);
  if (p.bZeroPoint.length !== 1 && p.bZeroPoint.length !== n) {
    throw new ShapeError(op, `bZeroPoint must have length 1 or N=${n}, got ${p.bZeroPoint.length}`);
  }
  return checkBounds(op, k, a, p.aZeroPoint, b, p.bZeroPoint, bias);
}

/** C[cOff + i*n + j] = the GEMM, for validated inputs with m, n, k >= 1 whose centered values fit int16. */
function qgemmInto(rt: QSimdRuntime, a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams, c: Int32Array, cOff: number): void {
  const { m, n, k, transposeB } = p;
  const perChannel = p.bZeroPoint.length !== 1;
  const ldcN = alignUp(n, NR);
  const arena = new Arena();
  const ws = reserveWorkspace(arena, m, n, k, false);
  const cAt = arena.take(alignUp(m, MR) * ldcN * 4); // C [M, N] padded to whole tiles
  const zpA = arena.take(4);
  const zpB = arena.take(transposeB ? 4 * n : 2 * ldcN); // int32 per row of B^T, or int16 per column
  const aAt = arena.take(m * k + SLACK);
  const bAt = arena.take(n * k + SLACK);
  ensureBytes(rt, arena.end);
  rt.u8.set(bytesOf(a), aAt);
  rt.u8.set(bytesOf(b), bAt);
  rt.i32[zpA >> 2] = p.aZeroPoint;
  if (transposeB) rt.i32.set(p.bZeroPoint, zpB >> 2);
  else if (perChannel) rt.i16.set(p.bZeroPoint, zpB >> 1);
  else rt.i16.fill(p.bZeroPoint[0], zpB >> 1, (zpB >> 1) + ldcN);
  if (bias) {
    rt.i32.set(bias, cAt >> 2);
    rt.k.copyRows(cAt, 0, cAt + ldcN * 4, ldcN * 4, m - 1, n * 4);
  } else {
    rt.i32.fill(0, cAt >> 2, (cAt >> 2) + m * ldcN);
  }
  const packA = rt.k.packRowsA[signIndex(a)];
  const bs = signIndex(b);
  runBlocked(rt, ws, {
    m,
    n,
    k,
    segment: n,
    ldc: ldcN * 4,
    packA: (i0, mc, pc, kc, dst) => packA(aAt + i0 * k + pc, k, mc, dst, kc, Math.ceil(mc / MR), zpA, 0),
    packB: (jc, nc, pc, kc, dst) => {
      const panels = Math.ceil(nc / NR);
      if (transposeB) rt.k.packRowsB[bs](bAt + jc * k + pc, k, nc, dst, kc, panels, zpB + (perChannel ? 4 * jc : 0), perChannel ? 4 : 0);
      else rt.k.packColsB[bs](bAt + pc * n + jc, n, dst, kc, panels, zpB + 2 * jc);
      return { at: dst, stride: Math.ceil(kc / 2) * NR * 4 };
    },
    cTile: (i, j) => cAt + (i * ldcN + j) * 4,
  });
  if (ldcN !== n) rt.k.copyRows(cAt + ldcN * 4, ldcN * 4, cAt + n * 4, n * 4, m - 1, n * 4); // compact rows in place
  c.set(rt.i32.subarray(cAt >> 2, (cAt >> 2) + m * n), cOff);
}

/** Validates, then writes the GEMM to c[cOff + i*n + j] (the JS kernel where int16 centering does not fit). */
function qgemmTo(op: string, a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams, c: Int32Array, cOff: number): void {
  const fitsInt16 = validate(op, a, b, bias, p);
  const { m, n, k } = p;
  if (m === 0 || n === 0) return;
  if (!fitsInt16) {
    c.set(qgemmFast(a, b, bias, p), cOff);
  } else if (k === 0) {
    for (let i = 0; i < m; i++) {
      if (bias) c.set(bias, cOff + i * n);
      else c.fill(0, cOff + i * n, cOff + (i + 1) * n);
    }
  } else {
    qgemmInto(getQRuntime(), a, b, bias, p, c, cOff);
  }
}

/**
 * qgemmNaive's contract on WebAssembly SIMD128 (int16 dot products, int32 accumulation); bit-exact with it.
 * @example qgemmSimd(a, w, bias, {m: 197, n: 768, k: 768, transposeB: true, aZeroPoint: 3, bZeroPoint: zW})
 */
export function qgemmSimd(
  a: QCodes, // [M, K]
  b: QCodes, // [N, K] if transposeB else [K, N]
  bias: Int32Array | null, // [N]
  p: QGemmParams,
): Int32Array {
  const c = new Int32Array(p.m * p.n); // [M, N]
  qgemmTo("qgemmSimd", a, b, bias, p, c, 0);
  return c;
}

/**
 * qgemmSimd writing into a caller's buffer: C[cOffset + i*n + j] for i < m, j < n (rows n apart); nothing else
 * is touched. For callers that reuse output buffers.
 * @example qgemmSimdInto(a, w, bias, params, out, 0)
 */
export function qgemmSimdInto(a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams, c: Int32Array, cOffset = 0): void {
  if (!Number.isInteger(cOffset) || cOffset < 0 || cOffset + p.m * p.n > c.length) {
    throw new ShapeError("qgemmSimdInto", `C must hold M*N = ${p.m * p.n} values from offset ${cOffset}, got length ${c.length}`);
  }
  qgemmTo("qgemmSimdInto", a, b, bias, p, c, cOffset);
}

/**
 * qbmmNaive's contract (batched, no bias) on the SIMD GEMM, one GEMM per batch entry.
 * @example qbmmSimd(q, k, {batch: B * H, m: T, n: T, k: d, transposeB: true, aZeroPoint: zq, bZeroPoint: Int32Array.of(zk)})
 */
export function qbmmSimd(
  a: QCodes, // [batch, M, K]
  b: QCodes, // [batch, N, K] if transposeB else [batch, K, N]
  p: QBmmParams,
): Int32Array {
  const op = "qbmmSimd";
  if (!Number.isInteger(p.batch) || p.batch < 0) throw new ShapeError(op, `batch must be a non-negative integer, got ${p.batch}`);
  if (a.length !== p.batch * p.m * p.k) throw new ShapeError(op, `A must be [batch=${p.batch}, M=${p.m}, K=${p.k}], got ${a.length} codes`);
  if (b.length !== p.batch * p.n * p.k) throw new ShapeError(op, `B must hold batch*N*K = ${p.batch * p.n * p.k} codes, got ${b.length}`);
  const { batch, m, n, k } = p;
  const c = new Int32Array(batch * m * n); // [batch, M, N]
  for (let s = 0; s < batch; s++) {
    const aS = a.subarray(s * m * k, (s + 1) * m * k);
    const bS = b.subarray(s * n * k, (s + 1) * n * k);
    qgemmTo(op, aS, bS, null, p, c, s * m * n);
  }
  return c;
}
