// Safetensors element types and the 16-bit float conversions they need.
// f16 is IEEE 754 binary16 (1 sign, 5 exponent bits with bias 15, 10 mantissa bits); bf16 is the top half of an
// IEEE binary32. Float -> 16-bit rounding is round-to-nearest-even, matching torch's
// c10::detail::fp16_ieee_from_fp32_value (c10/util/Half.h) and c10::round_to_nearest_even (c10/util/BFloat16.h).

/** Element types zoa-ts reads and writes; names as in the safetensors header (safetensors/src/tensor.rs Dtype). */
export type SafeDType = "F32" | "F16" | "BF16" | "I8" | "U8" | "I32" | "I64";

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<SafeDType, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I8: 1,
  U8: 1,
  I32: 4,
  I64: 8,
};

/** Type guard for header strings. NOTE: own-property check, so "toString" or "__proto__" are not dtypes. */
export function isSafeDType(s: unknown): s is SafeDType {
  return typeof s === "string" && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** Whether `data` is the typed array that holds `dtype` (F16/BF16 as raw Uint16 bits). */
export function isDataFor(dtype: SafeDType, data: unknown): boolean {
  switch (dtype) {
    case "F32":
      return data instanceof Float32Array;
    case "F16":
    case "BF16":
      return data instanceof Uint16Array;
    case "I8":
      return data instanceof Int8Array;
    case "U8":
      return data instanceof Uint8Array;
    case "I32":
      return data instanceof Int32Array;
    case "I64":
      return data instanceof BigInt64Array;
    default:
      return dtype satisfies never;
  }
}

/** Name of the typed array each dtype is written from, for error messages. */
export const DATA_KIND: Record<SafeDType, string> = {
  F32: "Float32Array",
  F16: "Uint16Array (f16 bits)",
  BF16: "Uint16Array (bf16 bits)",
  I8: "Int8Array",
  U8: "Uint8Array",
  I32: "Int32Array",
  I64: "BigInt64Array",
};

// One 4-byte scratch cell viewed both ways, to reinterpret float32 <-> uint32 bits (same element, so the host
// byte order does not matter here).
const SCRATCH_F32 = new Float32Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_F32.buffer);

/** IEEE binary32 bit pattern of `x` after rounding it to float32 (Math.fround). */
export function float32Bits(x: number): number {
  SCRATCH_F32[0] = x;
  return SCRATCH_U32[0];
}

/** The float32 value of a 32-bit pattern. */
export function bitsToFloat32(bits: number): number {
  SCRATCH_U32[0] = bits >>> 0;
  return SCRATCH_F32[0];
}

/**
 * Nearest IEEE half to `x` (first rounded to float32, as a torch float32 tensor would hold it), as a 16-bit pattern.
 * Ties go to the even mantissa; |x| >= 65520 gives infinity; NaN gives sign | 0x7e00 (torch's quiet NaN).
 * @example float32ToF16Bits(65504) === 0x7bff
 */
export function float32ToF16Bits(x: number): number {
  const bits = float32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | (mant === 0 ? 0x7c00 : 0x7e00);
  const e = exp - 127; // unbiased exponent of a normal float32; float32 subnormals (exp 0) fall below every half
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    // Normal half: keep the top 10 of 23 mantissa bits and round on the 13 dropped bits. A carry out of the
    // mantissa bumps the exponent, and a carry out of exponent 30 lands exactly on 0x7c00 = infinity.
    let h = ((e + 15) << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  // Subnormal half: value = (mant | 2^23) * 2^(e-23) = q * 2^-24 with q = (mant | 2^23) * 2^(e+1).
  const shift = -e - 1; // 14..
  if (exp === 0 || shift > 24) return sign; // below 2^-25 (half the smallest subnormal): rounds to 0
  const full = mant | 0x800000;
  let q = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (q & 1) === 1)) q += 1; // q may reach 0x400, the smallest normal
  return sign | q;
}

/**
 * The float32 value of an IEEE half bit pattern (exact: every half is a float32). NaN payloads are not kept.
 * @example f16BitsToFloat32(0x3c00) === 1
 */
export function f16BitsToFloat32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return bitsToFloat32(sign | 0x7f800000 | (mant << 13));
  if (exp !== 0) return bitsToFloat32(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  // Zero or subnormal: mant * 2^-24, exact in a double and in float32.
  const v = mant * 2 ** -24;
  return sign !== 0 ? -v : v;
}

/**
 * Nearest bfloat16 to `x` (first rounded to float32), ties to even, as torch's round_to_nearest_even:
 * (bits + 0x7fff + lsb) >> 16. NaN gives 0x7fc0 like torch. Finite values past the bf16 max become infinity.
 * @example float32ToBf16Bits(1) === 0x3f80
 */
export function float32ToBf16Bits(x: number): number {
  const bits = float32Bits(x);
  if (Number.isNaN(x)) return 0x7fc0;
  const lsb = (bits >>> 16) & 1;
  // NOTE: bits <= 0xff7fffff here (NaN excluded), so bits + 0x8000 < 2^32 and >>> is safe.
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/**
 * The float32 value of a bfloat16 bit pattern (exact).
 * @example bf16BitsToFloat32(0x3f80) === 1
 */
export function bf16BitsToFloat32(h: number): number {
  return bitsToFloat32((h & 0xffff) << 16);
}

let f16Table: Float32Array | null = null;

/** All 65536 halves decoded, built on first use (256 KiB); index by bit pattern. */
export function f16DecodeTable(): Float32Array {
  if (f16Table === null) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16BitsToFloat32(h);
    f16Table = t;
  }
  return f16Table;
}

/** True when typed arrays use little-endian element order on this host (every platform Node ships for today). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
