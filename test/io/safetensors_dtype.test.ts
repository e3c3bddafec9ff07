// f16/bf16 conversions against independent oracles: decoding by the textbook formula
// (-1)^s * 2^(e-bias) * (1 + m/2^M) (subnormals: 2^(1-bias) * m/2^M), and encoding by brute-force nearest
// representable value with ties to the even bit pattern. Exact (0 ulp) everywhere.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DTYPE_BYTES,
  bf16BitsToFloat32,
  f16BitsToFloat32,
  float32ToBf16Bits,
  float32ToF16Bits,
} from "../../src/io/safetensors.js";

/** Textbook decode of a binary float with `eb` exponent bits and `mb` mantissa bits (NaN for any NaN pattern). */
function formulaDecode(h: number, eb: number, mb: number): number {
  const bias = 2 ** (eb - 1) - 1;
  const sign = (h >>> (eb + mb)) & 1 ? -1 : 1;
  const e = (h >>> mb) & (2 ** eb - 1);
  const m = h & (2 ** mb - 1);
  if (e === 2 ** eb - 1) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * 2 ** (1 - bias) * (m / 2 ** mb);
  return sign * 2 ** (e - bias) * (1 + m / 2 ** mb);
}

/**
 * Nearest-value encoder. `values[i]` is the magnitude of positive pattern i, increasing, with the infinity pattern
 * standing in for the next power of two (IEEE 754 §4.3.1: overflow rounds as if the exponent range were unbounded).
 */
function nearestEncode(x: number, values: Float64Array, signBit: number, nanCheck: (h: number) => boolean): (h: number) => boolean {
  return (h: number) => {
    if (Number.isNaN(x)) return nanCheck(h);
    const a = Math.abs(x);
    const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
    let want: number;
    if (a >= values[values.length - 1]) want = values.length - 1;
    else {
      let lo = 0;
      let hi = values.length - 1; // values[lo] <= a < values[hi]
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (values[mid] <= a) lo = mid;
        else hi = mid;
      }
      // NOTE: a and both neighbours are within a factor 2 (or a neighbour is 0), so the differences are exact.
      const dLo = a - values[lo];
      const dHi = values[hi] - a;
      want = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
    }
    return h === (sign | want);
  };
}

const F16_POS = Float64Array.from({ length: 0x7c01 }, (_, i) => (i === 0x7c00 ? 65536 : formulaDecode(i, 5, 10)));
const BF16_POS = Float64Array.from({ length: 0x7f81 }, (_, i) => (i === 0x7f80 ? 2 ** 128 : formulaDecode(i, 8, 7)));

/** Exact ties: the midpoint of two neighbouring patterns (12 or 9 significant bits, so exact in float32), +-. */
function midpoints(values: Float64Array): fc.Arbitrary<number> {
  return fc
    .tuple(fc.integer({ min: 0, max: values.length - 2 }), fc.boolean())
    .map(([i, neg]) => (neg ? -1 : 1) * ((values[i] + values[i + 1]) / 2));
}

describe("DTYPE_BYTES", () => {
  it("matches the element sizes of the safetensors dtypes", () => {
    expect(DTYPE_BYTES).toEqual({ F32: 4, F16: 2, BF16: 2, I8: 1, U8: 1, I32: 4, I64: 8 });
  });
});

describe("f16", () => {
  it("decodes all 65536 bit patterns like the formula, and f16 -> f32 -> f16 is the identity for non-NaN", () => {
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = f16BitsToFloat32(h);
      const want = formulaDecode(h, 5, 10);
      if (!Object.is(v, want)) bad.push(`decode 0x${h.toString(16)}: ${v} != ${want}`);
      else if (!Number.isNaN(want) && float32ToF16Bits(v) !== h) bad.push(`re-encode 0x${h.toString(16)}: 0x${float32ToF16Bits(v).toString(16)}`);
      else if (Number.isNaN(want) && (float32ToF16Bits(v) & 0x7fff) <= 0x7c00) bad.push(`NaN 0x${h.toString(16)} re-encodes as non-NaN`);
    }
    expect(bad).toEqual([]);
  });

  it.each([
    [65504, 0x7bff, "max finite"],
    [65519, 0x7bff, "just below the overflow midpoint"],
    [65520, 0x7c00, "overflow midpoint rounds to inf (65504 has an odd mantissa)"],
    [1e6, 0x7c00, "overflow"],
    [-Infinity, 0xfc00, "-inf"],
    [2 ** -14, 0x0400, "smallest normal 6.1035e-5"],
    [6.1e-5, 0x03ff, "6.1e-5 is subnormal: 1023.4 * 2^-24 -> 1023"],
    [2 ** -14 - 2 ** -25, 0x0400, "tie between 0x3ff and 0x400 goes to even 0x400"],
    [2 ** -24, 0x0001, "smallest subnormal 5.96e-8"],
    [2 ** -25, 0x0000, "half the smallest subnormal ties to even 0"],
    [1.5 * 2 ** -25, 0x0001, "above the tie rounds up"],
    [3 * 2 ** -25, 0x0002, "1.5 * 2^-24 ties to even 2"],
    [5 * 2 ** -25, 0x0002, "2.5 * 2^-24 ties to even 2"],
    [1e-10, 0x0000, "underflow"],
    [-1e-10, 0x8000, "underflow keeps the sign"],
    [1 + 2 ** -11, 0x3c00, "tie between 0x3c00 and 0x3c01 goes to even 0x3c00"],
    [1 + 3 * 2 ** -11, 0x3c02, "tie between 0x3c01 and 0x3c02 goes to even 0x3c02"],
    [1 + 2 ** -11 + 2 ** -20, 0x3c01, "just above a tie rounds up"],
    [2048 + 1, 0x6800, "2049 ties to 2048 (spacing 2)"],
    [2048 + 3, 0x6802, "2051 ties to 2052"],
    [1 / 3, 0x3555, "1/3"],
    [0.1, 0x2e66, "0.1"],
    [-2, 0xc000, "-2"],
    [-0, 0x8000, "-0"],
  ])("float32ToF16Bits(%s) -> bits %s (%s)", (x, bits) => {
    expect(float32ToF16Bits(x)).toBe(bits);
  });

  it("encodes NaN as a quiet NaN and decodes it as NaN", () => {
    expect(float32ToF16Bits(NaN)).toBe(0x7e00);
    expect(Number.isNaN(f16BitsToFloat32(0x7e01))).toBe(true);
    expect(f16BitsToFloat32(0x7c00)).toBe(Infinity);
  });

  it("rounds random float32 values to the nearest half, ties to even (fast-check, 3000 runs)", () => {
    const nanCheck = (h: number) => (h & 0x7fff) > 0x7c00;
    const arb = fc.oneof(
      fc.float(),
      fc.float({ min: -70000, max: 70000 }),
      fc.float({ min: Math.fround(-1e-4), max: Math.fround(1e-4) }),
      midpoints(F16_POS),
    );
    fc.assert(
      fc.property(arb, (x) => nearestEncode(x, F16_POS, 0x8000, nanCheck)(float32ToF16Bits(x))),
      { numRuns: 3000, seed: 0x5afe },
    );
  });
});

describe("bf16", () => {
  it("decodes all 65536 bit patterns like the formula, and bf16 -> f32 -> bf16 is the identity for non-NaN", () => {
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = bf16BitsToFloat32(h);
      const want = formulaDecode(h, 8, 7);
      if (!Object.is(v, want)) bad.push(`decode 0x${h.toString(16)}: ${v} != ${want}`);
      else if (!Number.isNaN(want) && float32ToBf16Bits(v) !== h) bad.push(`re-encode 0x${h.toString(16)}: 0x${float32ToBf16Bits(v).toString(16)}`);
    }
    expect(bad).toEqual([]);
  });

  it.each([
    [1, 0x3f80, "one"],
    [1 + 2 ** -8, 0x3f80, "tie between 0x3f80 and 0x3f81 goes to even"],
    [1 + 3 * 2 ** -8, 0x3f82, "tie between 0x3f81 and 0x3f82 goes to even"],
    [Math.PI, 0x4049, "pi: f32 0x40490fdb, low half < 0x8000"],
    [0.1, 0x3dcd, "0.1: f32 0x3dcccccd, low half > 0x8000"],
    [-2, 0xc000, "-2"],
    [3.4028234663852886e38, 0x7f80, "float32 max rounds to inf, as torch"],
    [-Infinity, 0xff80, "-inf"],
    [NaN, 0x7fc0, "NaN -> torch's 0x7fc0"],
    [2 ** -133, 0x0001, "smallest bf16 subnormal"],
  ])("float32ToBf16Bits(%s) -> bits %s (%s)", (x, bits) => {
    expect(float32ToBf16Bits(x)).toBe(bits);
  });

  it("rounds random float32 values to the nearest bf16, ties to even (fast-check, 3000 runs)", () => {
    const nanCheck = (h: number) => h === 0x7fc0;
    fc.assert(
      fc.property(fc.oneof(fc.float(), midpoints(BF16_POS)), (x) => nearestEncode(x, BF16_POS, 0x8000, nanCheck)(float32ToBf16Bits(x))),
      { numRuns: 3000, seed: 0xbf16 },
    );
  });
});
