// Integer GEMM on WebAssembly SIMD128, qgemmNaive's contract (kernels/cpu/qgemm.ts), tested bit for bit against it:
//   C[m, n] = sum_k (A[m, k] - zA) * (B[n, k] - zB[n]) + bias[n]
// M=rows of A N=output channels K=reduction length; B is [N, K] when transposeB, else [K, N].
// Zero points are folded at packing time: the packers (qgemm_kernel.ts) widen codes to int16 and subtract the zero
// point, so the micro-kernel sums exact products of centered values with i32x4.dot_i16x8_s and no correction terms
// remain. The bias is preloaded into the C block. Goto/BLIS blocking as the fp32 gemm.ts:
//   for m0 (M_CHUNK rows): for jc (NC cols): C block = bias; for pc (KC depth): pack B block
//     for ic (MC rows): pack A block; block() over MR x NR tiles   then copy the C block out
// Exactness: every partial sum is bounded like the full sum, which assertNoInt32Overflow bounds by int32 (the
// same check, hence the same largest K, as the reference: 33025 for 8-bit codes with any zero points, 65793 for
// zero-point-0 int8 weights), and int32 adds wrap mod 2^32 anyway, so the result is exact. Codes or zero points
// whose centered values leave int16 (zero points far outside the code range) run on qgemmFast instead.
import { type AccumulatorOperand, assertNoInt32Overflow, maxAbsInt32, maxCenteredMagnitude } from "../../accumulator.js";
import { ShapeError } from "../../../tensor/shape.js";
import type { QCodes } from "../../qtensor.js";
import { type QBmmParams, type QGemmParams, qgemmFast, storageOperand } from "../cpu/qgemm.js";
import { MR, NR } from "./qgemm_kernel.js";
import { Arena, type QSimdRuntime, ensureBytes, getQRuntime } from "./runtime.js";

const KC = 512; // k values per block (even): A panel 4 KiB and B panel 8 KiB of int16 pairs stay in L1
const MC = 128; // A block 128 KiB, in L2
const NC = 2048; // B block 2 MiB
const M_CHUNK = 1024; // rows of C held in wasm memory at once
/** Bytes the packers may read past the end of an operand (partial panels of packCols, stride-2 conv loads). */
export const SLACK = 16;
/** Largest |q - zeroPoint| the int16 packing represents. */
export const MAX_CENTERED_INT16 = 32767;

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** Whether every centered value q - zeroPoint of these operands fits int16 (else the caller uses the JS kernel). */
export function centeredFitsInt16(...ops: readonly AccumulatorOperand[]): boolean {
  return ops.every((o) => maxCenteredMagnitude(o) <= MAX_CENTERED_INT16);
}

/** A code array's bytes (an Int8Array reinterpreted, not converted). */
export function bytesOf(x: QCodes): Uint8Array {
  return x instanceof Uint8Array ? x : new Uint8Array(x.buffer, x.byteOffset, x.length);
}

/** Index into the [signed, unsigned] packer pairs. */
export function signIndex(x: QCodes): 0 | 1 {
  return x instanceof Int8Array ? 0 : 1;
}

/** The operand-specific steps of a blocked GEMM; addresses and strides in bytes. */
export interface BlockedGemm {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Packs rows [i0, i0 + mc) of A, k in [pc, pc + kc), into MR-row panels at dst. */
  packA(i0: number, mc: number, pc: number, kc: number, dst: number): void;
  /** Packs columns [jc, jc + nc) of B, k in [pc, pc + kc), into NR-column panels at dst (or finds them packed). */
  packB(jc: number, nc: number, pc: number, kc: number, dst: number): { at: number; stride: number };
  /** Fills the C block (rows [m0, m0 + mm), cols [jc, jc + nc), row stride ldc) with the bias or 0. */
  initC(at: number, ldc: number, m0: number, mm: number, jc: number, nc: number): void;
  /** Copies the C block out. */
  copyOut(at: number, ldc: number, m0: number, mm: number, jc: number, nc: number): void;
}

export interface Workspace {
  a: number;
  b: number;
  c: number;
}

/** Reserves the packed-A, packed-B (unless B comes packed) and C regions of an (m, n, k) problem. */
export function reserveWorkspace(arena: Arena, m: number, n: number, k: number, bPacked: boolean): Workspace {
  const kp = Math.ceil(Math.min(KC, k) / 2);
  const nc = alignUp(Math.min(NC, n), NR);
  const a = arena.take(alignUp(Math.min(MC, m), MR) * kp * 4);
  const b = bPacked ? -1 : arena.take(nc * kp * 4);
  const c = arena.take(alignUp(Math.min(M_CHUNK, m), MR) * nc * 4);
  return { a, b, c };
}

/** The Goto/BLIS loops around block(); needs m, n, k >= 1 and the workspace reserved (memory grown). */
export function runBlocked(rt: QSimdRuntime, ws: Workspace, g: BlockedGemm): void {
  const { m, n, k } = g;
  const block = rt.k.block;
  for (let m0 = 0; m0 < m; m0 += M_CHUNK) {
    const mm = Math.min(M_CHUNK, m - m0);
    for (let jc = 0; jc < n; jc += NC) {
      const nc = Math.min(NC, n - jc);
      const ldc = alignUp(nc, NR) * 4;
      g.initC(ws.c, ldc, m0, mm, jc, nc);
      for (let pc = 0; pc < k; pc += KC) {
        const kc = Math.min(KC, k - pc);
        const b = g.packB(jc, nc, pc, kc, ws.b);
        for (let ic = 0; ic < mm; ic += MC) {
          const mc = Math.min(MC, mm - ic);
          g.packA(m0 + ic, mc, pc, kc, ws.a);
          block(ws.a, b.at, b.stride, ws.c + ic * ldc, ldc, Math.ceil(mc / MR), Math.ceil(nc / NR), Math.ceil(kc / 2), 1);
        }
      }
      g.copyOut(ws.c, ldc, m0, mm, jc, nc);
    }
  }
}

function validate(op: string, a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams): void {
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
  const aOp = storageOperand(a instanceof Int8Array, p.aZeroPoint);
  assertNoInt32Overflow(op, k, aOp, storageOperand(b instanceof Int8Array, p.bZeroPoint), maxAbsInt32(bias));
}

/** C[cOff + i*n + j] = the GEMM, for validated inputs with m, n, k >= 1 whose centered values fit int16. */
function qgemmInto(rt: QSimdRuntime, a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams, c: Int32Array, cOff: number): void {
  const { m, n, k, transposeB } = p;
  const perChannel = p.bZeroPoint.length !== 1;
  const arena = new Arena();
  const ws = reserveWorkspace(arena, m, n, k, false);
  const zpA = arena.take(4);
  const zpB = arena.take(transposeB ? 4 * n : 2 * alignUp(n, NR)); // int32 per row of B^T, or int16 per column
  const aAt = arena.take(m * k + SLACK);
  const bAt = arena.take(n * k + SLACK);
  ensureBytes(rt, arena.end);
  rt.u8.set(bytesOf(a), aAt);
  rt.u8.set(bytesOf(b), bAt);
  rt.i32[zpA >> 2] = p.aZeroPoint;
  if (transposeB) rt.i32.set(p.bZeroPoint, zpB >> 2);
  else if (perChannel) rt.i16.set(p.bZeroPoint, zpB >> 1);
  else rt.i16.fill(p.bZeroPoint[0], zpB >> 1, (zpB >> 1) + alignUp(n, NR));
  const packA = rt.k.packRowsA[signIndex(a)];
  const bs = signIndex(b);
  runBlocked(rt, ws, {
    m,
    n,
    k,
    packA: (i0, mc, pc, kc, dst) => packA(aAt + i0 * k + pc, k, mc, dst, kc, Math.ceil(mc / MR), zpA, 0),
    packB: (jc, nc, pc, kc, dst) => {
      const panels = Math.ceil(nc / NR);
      if (transposeB) rt.k.packRowsB[bs](bAt + jc * k + pc, k, nc, dst, kc, panels, zpB + (perChannel ? 4 * jc : 0), perChannel ? 4 : 0);
      else rt.k.packColsB[bs](bAt + pc * n + jc, n, dst, kc, panels, zpB + 2 * jc);
      return { at: dst, stride: Math.ceil(kc / 2) * NR * 4 };
    },
    initC: (at, ldc, _m0, mm, jc, nc) => {
      const c0 = at >> 2;
      const row = ldc >> 2;
      if (!bias) {
        rt.i32.fill(0, c0, c0 + mm * row);
        return;
      }
      rt.i32.set(bias.subarray(jc, jc + nc), c0);
      for (let i = 1; i < mm; i++) rt.i32.copyWithin(c0 + i * row, c0, c0 + nc);
    },
    copyOut: (at, ldc, m0, mm, jc, nc) => {
      const c0 = at >> 2;
      const row = ldc >> 2;
      if (nc === n && row === n) {
        c.set(rt.i32.subarray(c0, c0 + mm * n), cOff + m0 * n);
        return;
      }
      for (let i = 0; i < mm; i++) c.set(rt.i32.subarray(c0 + i * row, c0 + i * row + nc), cOff + (m0 + i) * n + jc);
    },
  });
}

/** Validates, then writes the GEMM to c[cOff + i*n + j] (the JS kernel where int16 centering does not fit). */
function qgemmTo(op: string, a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams, c: Int32Array, cOff: number): void {
  validate(op, a, b, bias, p);
  const { m, n, k } = p;
  if (m === 0 || n === 0) return;
  if (!centeredFitsInt16(storageOperand(a instanceof Int8Array, p.aZeroPoint), storageOperand(b instanceof Int8Array, p.bZeroPoint))) {
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
