// Fixed-point requantization with the gemmlowp/TFLite names and semantics (gemmlowp fixedpoint.h,
// TFLite quantization_util.cc QuantizeMultiplier, kernels/internal/common.h MultiplyByQuantizedMultiplier).
// Rounding mode: TFLite's DOUBLE-ROUNDING path (not TFLITE_SINGLE_ROUNDING). quantizeMultiplier rounds half away
// from zero (TfLiteRound); saturatingRoundingDoublingHighMul rounds to nearest with ties toward +infinity;
// roundingDivideByPOT rounds to nearest with ties away from zero.
// NOTE: int32 x int32 can reach 2^62, beyond the 2^53 a double holds exactly, so the high multiply is built
// from 16-bit limbs; every integer result goes through `| 0` or a clamp.
import { roundHalfAwayFromZero } from "./rounding.js";

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/**
 * Bound of multiplyByQuantizedMultiplier(acc, ...quantizeMultiplier(r)) against the exact
 * roundHalfAwayFromZero(acc * r): at most 1 LSB (the Q31 multiplier error is < 0.5 LSB of any int32 result, and the
 * two roundings add at most 0.75 LSB more; see the derivation in fixedpoint.test.ts).
 */
export const MAX_REQUANTIZE_ERROR_LSB = 1;

/** A real multiplier as an int32 Q31 mantissa and a power-of-two exponent: real ~= multiplier * 2^(shift - 31). */
export interface QuantizedMultiplier {
  /** int32 Q31 mantissa, in [2^30, 2^31) for positive reals (negative reals: the mirror), or 0. */
  multiplier: number;
  /** Power-of-two exponent; > 0 is a left shift, <= 0 a right shift; in [-31, 30] for |real| < 2^30. */
  shift: number;
}

/** frexp: x = m * 2^e with 0.5 <= |m| < 1 (x finite and nonzero). Exact: only powers of two are applied. */
function frexp(x: number): { mantissa: number; exponent: number } {
  let e = Math.ceil(Math.log2(Math.abs(x)));
  let m = x * 2 ** -e;
  // NOTE: log2 may be off by one near powers of two, and 2 ** -e underflows below 2^-1022; fix up exactly.
  while (Math.abs(m) >= 1) {
    m /= 2;
    e += 1;
  }
  while (Math.abs(m) < 0.5) {
    m *= 2;
    e -= 1;
  }
  if (!Number.isFinite(m)) throw new RangeError(`frexp: cannot decompose ${x}`);
  return { mantissa: m, exponent: e };
}

/**
 * TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31) with a Q31 mantissa rounded half away from zero.
 * When the mantissa rounds up to 2^31 it becomes 2^30 with shift + 1; reals below 2^-32 in magnitude (shift < -31)
 * flush to {0, 0}.
 * @example quantizeMultiplier(0.5) -> {multiplier: 2^30, shift: 0}; quantizeMultiplier(1) -> {multiplier: 2^30, shift: 1}
 */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (!Number.isFinite(real)) throw new RangeError(`quantizeMultiplier: real must be finite, got ${real}`);
  // Below 2^-33 the shift is < -31 even after rounding up, so TFLite flushes to zero (and frexp would underflow).
  if (Math.abs(real) < 2 ** -33) return { multiplier: 0, shift: 0 };
  const { mantissa, exponent } = frexp(real);
  let shift = exponent;
  let qFixed = roundHalfAwayFromZero(mantissa * 2 ** 31); // |.| <= 2^31, exact in a double
  // NOTE: only +2^31 overflows int32; like TFLite, a negative mantissa may stay at INT32_MIN.
  if (qFixed === 2 ** 31) {
    qFixed /= 2;
    shift += 1;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  if (shift > 31) throw new RangeError(`quantizeMultiplier: ${real} needs a left shift of ${shift} > 31`);
  return { multiplier: qFixed | 0, shift: shift | 0 }; // | 0 also turns a -0 exponent into 0
}

/**
 * Unsigned 32 x 32 -> 64-bit product as two 32-bit halves, from 16-bit limbs (no partial product reaches 2^53).
 * a, b in [0, 2^32).
 */
function mulU32(a: number, b: number): { hi: number; lo: number } {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid = a1 * b0 + a0 * b1; // < 2^33
  const low = a0 * b0 + (mid % 0x10000) * 0x10000; // < 2^33
  const lo = low % 0x100000000;
  const hi = a1 * b1 + Math.floor(mid / 0x10000) + Math.floor(low / 0x100000000);
  return { hi, lo };
}

/**
 * gemmlowp SaturatingRoundingDoublingHighMul: the int32 nearest to a * b / 2^31 (ties toward +infinity:
 * C truncation of (a*b + nudge) / 2^31 with nudge = 2^30 or 1 - 2^30), saturating the one overflow
 * INT32_MIN * INT32_MIN to INT32_MAX.
 * @example saturatingRoundingDoublingHighMul(2 ** 30, 3) === 2 (1.5 rounds up); (-(2 ** 30), 3) === -1
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  a |= 0;
  b |= 0;
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const negative = a < 0 !== b < 0;
  const { hi, lo } = mulU32(Math.abs(a), Math.abs(b)); // |a * b| = hi * 2^32 + lo < 2^62, so hi < 2^30
  if (!negative) {
    // floor((|ab| + 2^30) / 2^31) = 2 * hi + floor((lo + 2^30) / 2^31)
    return (2 * hi + Math.floor((lo + 0x40000000) / 0x80000000)) | 0;
  }
  // trunc((ab + 1 - 2^30) / 2^31) = -floor((|ab| + 2^30 - 1) / 2^31) for ab < 0
  return -(2 * hi + Math.floor((lo + 0x3fffffff) / 0x80000000)) | 0;
}

/**
 * gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31].
 * @example roundingDivideByPOT(5, 1) === 3; roundingDivideByPOT(-5, 1) === -3; roundingDivideByPOT(-6, 2) === -2
 */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > 31) {
    throw new RangeError(`roundingDivideByPOT: exponent must be an integer in [0, 31], got ${exponent}`);
  }
  x |= 0;
  const mask = (2 ** exponent - 1) | 0;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return ((x >> exponent) + (remainder > threshold ? 1 : 0)) | 0;
}

/**
 * TFLite MultiplyByQuantizedMultiplier (double rounding): RoundingDivideByPOT(SRDHM(acc * 2^leftShift, multiplier),
 * rightShift) with leftShift = max(shift, 0), rightShift = max(-shift, 0). Within MAX_REQUANTIZE_ERROR_LSB of
 * roundHalfAwayFromZero(acc * real) when {multiplier, shift} = quantizeMultiplier(real).
 * Throws when acc * 2^leftShift leaves int32 (undefined behaviour in TFLite).
 * @example const {multiplier, shift} = quantizeMultiplier(0.25); multiplyByQuantizedMultiplier(10, multiplier, shift) === 3
 */
export function multiplyByQuantizedMultiplier(acc: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  let x = acc | 0;
  if (leftShift > 0) {
    const shifted = x * 2 ** leftShift;
    if (shifted < INT32_MIN || shifted > INT32_MAX) {
      throw new RangeError(`multiplyByQuantizedMultiplier: ${acc} << ${leftShift} overflows int32`);
    }
    x = shifted | 0;
  }
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), rightShift);
}
