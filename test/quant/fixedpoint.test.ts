// Oracles: BigInt int64 arithmetic (oracle.ts) for SRDHM / RoundingDivideByPOT / MultiplyByQuantizedMultiplier,
// and the exact rational roundHalfAwayFromZero(acc * real) for the end-to-end requantization bound.
//
// Bound derivation (MAX_REQUANTIZE_ERROR_LSB = 1): let y = acc * r and y_q = acc * M * 2^(shift-31).
// |M - r 2^(31-shift)| <= 1/2 gives |y - y_q| <= |acc| 2^(shift-32) < 1/2 whenever acc * 2^max(shift,0) fits int32.
// SRDHM rounds once (<= 1/2 at its scale), RoundingDivideByPOT by 2^e once more: |z - y_q| <= 1/2 + 1/2^(e+1) <= 3/4.
// So |z - y| < 5/4 and |z - round(y)| < 7/4: the integer difference is 0 or +-1.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  INT32_MAX,
  INT32_MIN,
  MAX_REQUANTIZE_ERROR_LSB,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from "../../src/quant/fixedpoint.js";
import { exactRoundedProduct, mbqmOracle, rdbpOracle, srdhmOracle } from "./oracle.js";

const edge = fc.constantFrom(INT32_MIN, INT32_MIN + 1, -(2 ** 30), -1, 0, 1, 2 ** 30, 2 ** 30 + 1, INT32_MAX - 1, INT32_MAX);
const int32 = fc.oneof(fc.integer({ min: INT32_MIN, max: INT32_MAX }), edge, fc.integer({ min: -70000, max: 70000 }));
/** Reals log-uniform over [2^lo, 2^hi), both signs optional. */
const logUniform = (lo: number, hi: number) => fc.double({ min: lo, max: hi, noNaN: true }).map((e) => 2 ** e);

describe("saturatingRoundingDoublingHighMul", () => {
  it("golden values, including the INT32_MIN * INT32_MIN saturation", () => {
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(2 ** 30, 3)).toBe(2); // 1.5 -> 2
    expect(saturatingRoundingDoublingHighMul(-(2 ** 30), 3)).toBe(-1); // -1.5 -> -1 (ties toward +infinity)
    expect(saturatingRoundingDoublingHighMul(INT32_MAX, INT32_MAX)).toBe(INT32_MAX - 1);
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MAX)).toBe(-INT32_MAX);
  });

  it("equals the BigInt int64 oracle exactly (0 LSB)", () => {
    fc.assert(
      fc.property(int32, int32, (a, b) => {
        expect(saturatingRoundingDoublingHighMul(a, b)).toBe(srdhmOracle(a, b));
      }),
      { numRuns: 20000 },
    );
  });
});

describe("roundingDivideByPOT", () => {
  it("golden values: ties away from zero", () => {
    expect([roundingDivideByPOT(5, 1), roundingDivideByPOT(-5, 1), roundingDivideByPOT(-6, 2), roundingDivideByPOT(7, 0)]).toEqual([3, -3, -2, 7]);
    expect(roundingDivideByPOT(INT32_MIN, 31)).toBe(-1);
    expect(roundingDivideByPOT(INT32_MAX, 31)).toBe(1);
    expect(() => roundingDivideByPOT(1, 32)).toThrow(RangeError);
  });

  it("equals the BigInt oracle exactly for every exponent 0..31", () => {
    fc.assert(
      fc.property(int32, fc.integer({ min: 0, max: 31 }), (x, e) => {
        expect(roundingDivideByPOT(x, e)).toBe(rdbpOracle(x, e));
      }),
      { numRuns: 20000 },
    );
  });
});

describe("quantizeMultiplier", () => {
  it("golden values, including q_fixed == 2^31 and the flush to zero", () => {
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.25)).toEqual({ multiplier: 2 ** 30, shift: -1 });
    // mantissa 1 - 2^-40 rounds to 2^31: halved to 2^30 with shift + 1
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(2 ** -33)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    expect(quantizeMultiplier(Number.MIN_VALUE)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(-0.75)).toEqual({ multiplier: -(3 * 2 ** 29), shift: 0 });
  });

  it("is a Q31 mantissa in [2^30, 2^31) within half a Q31 LSB of the real", () => {
    fc.assert(
      fc.property(logUniform(-32, 30), fc.boolean(), (mag, negative) => {
        const real = negative ? -mag : mag;
        const { multiplier, shift } = quantizeMultiplier(real);
        expect(Number.isInteger(multiplier) && (multiplier | 0) === multiplier).toBe(true);
        expect(Math.abs(multiplier)).toBeGreaterThanOrEqual(2 ** 30);
        expect(Math.abs(multiplier)).toBeLessThanOrEqual(2 ** 31);
        expect(shift).toBeGreaterThanOrEqual(-31);
        // |M - real * 2^(31 - shift)| <= 1/2, evaluated exactly (powers of two scale exactly)
        expect(Math.abs(multiplier - real * 2 ** (31 - shift))).toBeLessThanOrEqual(0.5);
      }),
      { numRuns: 5000 },
    );
  });
});

describe("multiplyByQuantizedMultiplier", () => {
  it("double rounding golden: 5 * 0.25 gives 2 where the exact round(1.25) is 1 (the documented 1 LSB)", () => {
    const { multiplier, shift } = quantizeMultiplier(0.25);
    expect(multiplyByQuantizedMultiplier(5, multiplier, shift)).toBe(2);
    expect(exactRoundedProduct(5, 0.25)).toBe(1n);
    expect(multiplyByQuantizedMultiplier(10, multiplier, shift)).toBe(3);
  });

  it("equals the BigInt oracle of TFLite's double-rounding path exactly (0 LSB)", () => {
    fc.assert(
      fc.property(int32, logUniform(-34, -1e-9), (acc, real) => {
        const { multiplier, shift } = quantizeMultiplier(real);
        expect(multiplyByQuantizedMultiplier(acc, multiplier, shift)).toBe(mbqmOracle(acc, multiplier, shift));
      }),
      { numRuns: 20000 },
    );
  });

  it("is within MAX_REQUANTIZE_ERROR_LSB of the exact roundHalfAwayFromZero(acc * real), reals < 1", () => {
    fc.assert(
      fc.property(int32, logUniform(-34, -1e-9), (acc, real) => {
        const { multiplier, shift } = quantizeMultiplier(real);
        const got = BigInt(multiplyByQuantizedMultiplier(acc, multiplier, shift));
        const diff = got - exactRoundedProduct(acc, real);
        expect(diff <= BigInt(MAX_REQUANTIZE_ERROR_LSB) && diff >= -BigInt(MAX_REQUANTIZE_ERROR_LSB)).toBe(true);
      }),
      { numRuns: 20000 },
    );
  });

  it("is within MAX_REQUANTIZE_ERROR_LSB for reals > 1 (left shift) when acc * 2^shift fits int32", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), logUniform(0, 10), (acc, real) => {
        const { multiplier, shift } = quantizeMultiplier(real);
        fc.pre(Math.abs(acc) * 2 ** shift <= INT32_MAX); // else it throws (next test): TFLite's left shift would overflow
        const got = BigInt(multiplyByQuantizedMultiplier(acc, multiplier, shift));
        expect(got).toBe(BigInt(mbqmOracle(acc, multiplier, shift)));
        const diff = got - exactRoundedProduct(acc, real);
        expect(diff <= 1n && diff >= -1n).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("throws when the left shift overflows int32", () => {
    const { multiplier, shift } = quantizeMultiplier(4);
    expect(() => multiplyByQuantizedMultiplier(2 ** 30, multiplier, shift)).toThrow(RangeError);
  });
});
