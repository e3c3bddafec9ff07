// BigInt oracles for the integer paths: exact int64/rational arithmetic, written from the C sources' definitions
// (gemmlowp fixedpoint.h, TFLite common.h), with no shortcut shared with src/quant.
import type { QCodes } from "../../src/quant/qtensor.js";

export const INT32_MIN_BIG = -(1n << 31n);
export const INT32_MAX_BIG = (1n << 31n) - 1n;

export function toInt32(v: bigint, what: string): number {
  if (v < INT32_MIN_BIG || v > INT32_MAX_BIG) throw new Error(`oracle: ${what} = ${v} leaves int32`);
  return Number(v);
}

/** gemmlowp SaturatingRoundingDoublingHighMul with int64 arithmetic; BigInt `/` truncates toward zero like C. */
export function srdhmOracle(a: number, b: number): number {
  if (a === -2147483648 && b === -2147483648) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return toInt32((ab + nudge) / (1n << 31n), "srdhm");
}

/** Rounds num / den (den > 0) to nearest, ties away from zero. */
export function roundRationalHalfAway(num: bigint, den: bigint): bigint {
  const abs = num < 0n ? -num : num;
  const q = (2n * abs + den) / (2n * den);
  return num < 0n ? -q : q;
}

/** gemmlowp RoundingDivideByPOT: x / 2^e, nearest, ties away from zero. */
export function rdbpOracle(x: number, e: number): number {
  return toInt32(roundRationalHalfAway(BigInt(x), 1n << BigInt(e)), "rdbp");
}

/** TFLite MultiplyByQuantizedMultiplier (double rounding) in BigInt. */
export function mbqmOracle(acc: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const x = toInt32(BigInt(acc) << BigInt(left), "acc << left");
  return rdbpOracle(srdhmOracle(x, multiplier), right);
}

/** A finite double as mantissa * 2^exponent with an integer mantissa (exact). */
export function exactDyadic(r: number): { mantissa: bigint; exponent: number } {
  let m = r;
  let e = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    e -= 1;
  }
  return { mantissa: BigInt(m), exponent: e };
}

/** roundHalfAwayFromZero(acc * r) computed exactly (r any finite double). */
export function exactRoundedProduct(acc: number, r: number): bigint {
  const { mantissa, exponent } = exactDyadic(r);
  const num = BigInt(acc) * mantissa;
  return exponent >= 0 ? num << BigInt(exponent) : roundRationalHalfAway(num, 1n << BigInt(-exponent));
}

/** C[m, n] = sum_k (A[m,k] - zA)(B[n,k] - zB[n]) + bias[n] in BigInt; B is [N,K] if transposeB else [K,N]. */
export function qgemmOracle(
  a: QCodes,
  b: QCodes,
  bias: Int32Array | null,
  p: { m: number; n: number; k: number; transposeB: boolean; aZeroPoint: number; bZeroPoint: Int32Array },
): Int32Array {
  const c = new Int32Array(p.m * p.n);
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      const zB = BigInt(p.bZeroPoint.length === 1 ? p.bZeroPoint[0] : p.bZeroPoint[j]);
      let acc = bias ? BigInt(bias[j]) : 0n;
      for (let t = 0; t < p.k; t++) {
        const bv = p.transposeB ? b[j * p.k + t] : b[t * p.n + j];
        acc += (BigInt(a[i * p.k + t]) - BigInt(p.aZeroPoint)) * (BigInt(bv) - zB);
      }
      c[i * p.n + j] = toInt32(acc, "gemm acc");
    }
  }
  return c;
}

/** Requantize in BigInt: clamp(mbqm(acc, M[c], shift[c]) + zOut, qmin, qmax), c = floor(i / inner) % channels. */
export function requantizeOracle(
  acc: Int32Array,
  channels: number,
  inner: number,
  stage: { multiplier: Int32Array; shift: Int32Array; zeroPoint: number; qmin: number; qmax: number },
): number[] {
  return Array.from(acc, (v, i) => {
    const c = stage.multiplier.length === 1 ? 0 : Math.floor(i / inner) % channels;
    const q = mbqmOracle(v, stage.multiplier[c], stage.shift[c]) + stage.zeroPoint;
    return Math.min(Math.max(q, stage.qmin), stage.qmax);
  });
}

/** Seeded random codes of a storage type (full 8-bit range unless qmin/qmax narrow it). */
export function randomCodes(rng: { int(lo: number, hi: number): number }, n: number, signed: boolean, qmin?: number, qmax?: number): QCodes {
  const lo = qmin ?? (signed ? -128 : 0);
  const hi = qmax ?? (signed ? 127 : 255);
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(lo, hi + 1);
  return out;
}

/** Tolerance-0 comparison that names the first differing index (integer kernels are compared bit for bit). */
export function expectBitExact(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} != ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${what}: index ${i}: got ${got[i]}, want ${want[i]}`);
  }
}
