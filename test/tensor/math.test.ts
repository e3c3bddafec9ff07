// erf: the tabulated Hermite version against the series / continued-fraction reference and known values.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { erf, erfSeries, gelu } from "../../src/tensor/kernels/cpu/math.js";

describe("erf", () => {
  it("reference matches published values to 1e-14", () => {
    // Abramowitz & Stegun table 7.1 / high-precision values.
    for (const [x, v] of [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 1 - 2.209049699858544e-5], [4, 1 - 1.541725790028002e-8]]) {
      expect(Math.abs(erfSeries(x) - v)).toBeLessThan(1e-14);
      expect(Math.abs(erfSeries(-x) + v)).toBeLessThan(1e-14);
    }
  });

  it("the table is within 1e-9 of the reference everywhere", () => {
    fc.assert(
      fc.property(fc.double({ min: -8, max: 8, noNaN: true }), (x) => {
        expect(Math.abs(erf(x) - erfSeries(x))).toBeLessThan(1e-9);
      }),
      { numRuns: 5000, seed: 1 },
    );
  });

  it("gelu(x) = x * Phi(x) at known points", () => {
    expect(gelu(0)).toBe(0);
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 9); // table error < 1e-9
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 9);
    expect(gelu(10)).toBe(10);
  });
});
