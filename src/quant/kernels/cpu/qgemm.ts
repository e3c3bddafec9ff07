// Integer GEMM, int8/uint8 codes -> int32 accumulators (gemmlowp "public/ GEMM with offsets", TFLite FullyConnected):
//   C[m, n] = sum_k (A[m, k] - zA) * (B[n, k] - zB[n]) + bias[n]
// M=rows of A (tokens, pixels) N=output channels K=reduction length. A is per-tensor (one zA); B has one zero point
// (per tensor) or one per output channel n. B is [N, K] when transposeB (weights, k^T in attention), else [K, N].
// The bias is int32 with scale sA * sB[n] and zero point 0. Output stages (requantize / dequantize) are in requantize.ts.
import { assertNoInt32Overflow, maxAbsInt32, type AccumulatorOperand } from "../../accumulator.js";
import { ShapeError } from "../../../tensor/shape.js";
import type { QCodes } from "../../qtensor.js";

/** Codes a kernel can read: the two QTensor storage types, or an Int16Array copy made by a packing step. */
export type IntCodes = Int8Array | Uint8Array | Int16Array;

export interface QGemmParams {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** true: B is [N, K] (row n holds output channel n); false: B is [K, N]. */
  readonly transposeB: boolean;
  /** Zero point of A (per tensor). */
  readonly aZeroPoint: number;
  /** Zero point(s) of B: length 1 (per tensor) or N (per output channel). */
  readonly bZeroPoint: Int32Array;
}

/** Batched GEMM over `batch` independent [M, K] x B problems stored back to back. */
export interface QBmmParams extends QGemmParams {
  readonly batch: number;
}

/** The accumulator-bound operand for a storage type: its full 8-bit code range, so unchecked codes cannot overflow. */
export function storageOperand(signed: boolean, zeroPoint: number | ArrayLike<number>): AccumulatorOperand {
  return { bits: 8, signed, zeroPoint };
}

function validateB(op: string, b: QCodes, bias: Int32Array | null, p: QGemmParams): void {
  const { m, n, k } = p;
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(op, `${name} must be a non-negative integer, got ${v}`);
  }
  if (b.length !== n * k) throw new ShapeError(op, `B must hold N*K = ${n * k} codes, got ${b.length}`);
  if (bias && bias.length !== n) throw new ShapeError(op, `bias must be [N=${n}], got ${bias.length}`);
  if (p.bZeroPoint.length !== 1 && p.bZeroPoint.length !== n) {
    throw new ShapeError(op, `bZeroPoint must have length 1 or N=${n}, got ${p.bZeroPoint.length}`);
  }
}

/** Shapes, then the int32 accumulator bound for A and B at their storage types' full ranges. */
function validateQGemm(op: string, a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams): void {
  validateB(op, b, bias, p);
  if (a.length !== p.m * p.k) throw new ShapeError(op, `A must be [M=${p.m}, K=${p.k}] (${p.m * p.k} codes), got ${a.length}`);
  const aOperand = storageOperand(a instanceof Int8Array, p.aZeroPoint);
  assertNoInt32Overflow(op, p.k, aOperand, storageOperand(b instanceof Int8Array, p.bZeroPoint), maxAbsInt32(bias));
}

/**
 * Reference loops, one (A - zA)(B - zB) product per step. Returns C [M, N] int32.
 * @example qgemmNaive(a, w, bias, {m: 4, n: 8, k: 16, transposeB: true, aZeroPoint: 3, bZeroPoint: Int32Array.of(0)})
 */
export function qgemmNaive(
  a: QCodes, // [M, K]
  b: QCodes, // [N, K] if transposeB else [K, N]
  bias: Int32Array | null, // [N]
  p: QGemmParams,
): Int32Array {
  validateQGemm("qgemmNaive", a, b, bias, p);
  const { m, n, k, transposeB, aZeroPoint: zA, bZeroPoint } = p;
  const perChannel = bZeroPoint.length === n && n !== 1;
  const c = new Int32Array(m * n); // [M, N]
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const zB = perChannel ? bZeroPoint[j] : bZeroPoint[0];
      let acc = bias ? bias[j] : 0;
      for (let t = 0; t < k; t++) {
        const bv = transposeB ? b[j * k + t] : b[t * n + j];
        // NOTE: each partial sum is bounded like the full sum (validateQGemm), so `| 0` never wraps here.
        acc = (acc + (a[i * k + t] - zA) * (bv - zB)) | 0;
      }
      c[i * n + j] = acc;
    }
  }
  return c;
}

/**
 * B repacked for qgemmPacked: rows [N, K] as Int16, and everything that does not depend on A folded into `offset`:
 * offset[n] = bias[n] - zA * sum_k B[n, k] + K * zA * zB[n]. Pack once per weight matrix and reuse across calls.
 */
export interface PackedQGemmB {
  readonly n: number;
  readonly k: number;
  readonly aZeroPoint: number;
  readonly rows: Int16Array; // [N, K]
  readonly zeroPoint: Int32Array; // [N]
  readonly offset: Int32Array; // [N]
}

/**
 * Packs B (and bias) for a fixed A zero point; checks shapes and the int32 bound for A codes of the given signedness
 * (p.m is not used).
 * @example const packed = packQGemmB(w, bias, params, true); qgemmPacked(a, packed, m)
 */
export function packQGemmB(
  b: QCodes, // [N, K] if transposeB else [K, N]
  bias: Int32Array | null, // [N]
  p: QGemmParams,
  aSigned: boolean,
): PackedQGemmB {
  validateB("packQGemmB", b, bias, p);
  const aOperand = storageOperand(aSigned, p.aZeroPoint);
  assertNoInt32Overflow("packQGemmB", p.k, aOperand, storageOperand(b instanceof Int8Array, p.bZeroPoint), maxAbsInt32(bias));
  const { n, k, transposeB, aZeroPoint: zA, bZeroPoint } = p;
  const rows = new Int16Array(n * k);
  const zeroPoint = new Int32Array(n);
  const offset = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let rowSum = 0;
    for (let t = 0; t < k; t++) {
      const v = transposeB ? b[j * k + t] : b[t * n + j];
      rows[j * k + t] = v;
      rowSum += v; // |rowSum| <= 255 * K, exact
    }
    const zB = bZeroPoint.length === 1 ? bZeroPoint[0] : bZeroPoint[j];
    zeroPoint[j] = zB;
    // NOTE: int32 wrap-around (Math.imul, | 0) is exact modulo 2^32, and the full sum fits int32, so the result is exact.
    offset[j] = ((bias ? bias[j] : 0) - Math.imul(zA, rowSum) + Math.imul(Math.imul(k, zA), zB)) | 0;
  }
  return { n, k, aZeroPoint: zA, rows, zeroPoint, offset };
}

/**
 * Fast GEMM on packed B: C[m, n] = sum_k A*B - zB[n] * sum_k A[m, k] + offset[n], zero points out of the inner loop,
 * 1x4 output blocking (each A value loaded once for four B rows), int32 modular arithmetic. Bit-exact with qgemmNaive.
 * @example qgemmPacked(a, packQGemmB(w, bias, params, a instanceof Int8Array), params.m)
 */
export function qgemmPacked(
  a: IntCodes, // [M, K]
  packed: PackedQGemmB,
  m: number,
): Int32Array {
  const { n, k, rows, zeroPoint, offset } = packed;
  if (a.length !== m * k) throw new ShapeError("qgemmPacked", `A must be [M=${m}, K=${k}] (${m * k} codes), got ${a.length}`);
  const c = new Int32Array(m * n); // [M, N]
  for (let i = 0; i < m; i++) {
    const aRow = i * k;
    let aSum = 0;
    for (let t = 0; t < k; t++) aSum = (aSum + a[aRow + t]) | 0;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const r0 = j * k;
      const r1 = r0 + k;
      const r2 = r1 + k;
      const r3 = r2 + k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = 0; t < k; t++) {
        const av = a[aRow + t];
        s0 = (s0 + av * rows[r0 + t]) | 0;
        s1 = (s1 + av * rows[r1 + t]) | 0;
        s2 = (s2 + av * rows[r2 + t]) | 0;
        s3 = (s3 + av * rows[r3 + t]) | 0;
      }
      c[i * n + j] = (s0 - Math.imul(zeroPoint[j], aSum) + offset[j]) | 0;
      c[i * n + j + 1] = (s1 - Math.imul(zeroPoint[j + 1], aSum) + offset[j + 1]) | 0;
      c[i * n + j + 2] = (s2 - Math.imul(zeroPoint[j + 2], aSum) + offset[j + 2]) | 0;
      c[i * n + j + 3] = (s3 - Math.imul(zeroPoint[j + 3], aSum) + offset[j + 3]) | 0;
    }
    for (; j < n; j++) {
      const r = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) s = (s + a[aRow + t] * rows[r + t]) | 0;
      c[i * n + j] = (s - Math.imul(zeroPoint[j], aSum) + offset[j]) | 0;
    }
  }
  return c;
}

/**
 * qgemmNaive's contract, computed by packQGemmB + qgemmPacked.
 * @example qgemmFast(a, w, bias, params) // equals qgemmNaive(a, w, bias, params) bit for bit
 */
export function qgemmFast(a: QCodes, b: QCodes, bias: Int32Array | null, p: QGemmParams): Int32Array {
  validateQGemm("qgemmFast", a, b, bias, p);
  const packed = packQGemmB(b, bias, p, a instanceof Int8Array);
  return qgemmPacked(a, packed, p.m);
}

function validateQBmm(op: string, a: QCodes, b: QCodes, p: QBmmParams): void {
  if (!Number.isInteger(p.batch) || p.batch < 0) throw new ShapeError(op, `batch must be a non-negative integer, got ${p.batch}`);
  if (a.length !== p.batch * p.m * p.k) throw new ShapeError(op, `A must be [batch=${p.batch}, M=${p.m}, K=${p.k}], got ${a.length} codes`);
  if (b.length !== p.batch * p.n * p.k) throw new ShapeError(op, `B must hold batch*N*K = ${p.batch * p.n * p.k} codes, got ${b.length}`);
}

function qbmmWith(
  op: string,
  gemm: (a: QCodes, b: QCodes, bias: null, p: QGemmParams) => Int32Array,
  a: QCodes,
  b: QCodes,
  p: QBmmParams,
): Int32Array {
  validateQBmm(op, a, b, p);
  const { batch, m, n, k } = p;
  const c = new Int32Array(batch * m * n); // [batch, M, N]
  for (let s = 0; s < batch; s++) {
    const aS = a.subarray(s * m * k, (s + 1) * m * k);
    const bS = b.subarray(s * n * k, (s + 1) * n * k);
    c.set(gemm(aS, bS, null, p), s * m * n);
  }
  return c;
}

/**
 * Batched integer GEMM, no bias: C[s] = (A[s] - zA) (B[s] - zB)^T if transposeB else (A[s] - zA) (B[s] - zB).
 * @example qbmmNaive(q, k, {batch: B * H, m: T, n: T, k: d, transposeB: true, aZeroPoint: zq, bZeroPoint: Int32Array.of(zk)})
 */
export function qbmmNaive(
  a: QCodes, // [batch, M, K]
  b: QCodes, // [batch, N, K] if transposeB else [batch, K, N]
  p: QBmmParams,
): Int32Array {
  return qbmmWith("qbmmNaive", qgemmNaive, a, b, p);
}

/**
 * qbmmNaive's contract on the fast GEMM (B packed per batch entry).
 * @example qbmmFast(p, v, {batch: B * H, m: T, n: d, k: T, transposeB: false, aZeroPoint: zp, bZeroPoint: Int32Array.of(zv)})
 */
export function qbmmFast(a: QCodes, b: QCodes, p: QBmmParams): Int32Array {
  return qbmmWith("qbmmFast", qgemmFast, a, b, p);
}
