import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { roundHalfAwayFromZero, roundHalfToEven } from "../../src/quant/rounding.js";

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true });
const halfway = fc.integer({ min: -100000, max: 100000 }).map((k) => k + 0.5);

describe("roundHalfToEven", () => {
  it("golden ties go to the even neighbour (Math.round(-2.5) === -2 is not this mode)", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5].map(roundHalfToEven)).toEqual([0, 2, 2, 0, -2, -2, 4]);
    expect(Object.is(roundHalfToEven(-0.4), 0)).toBe(true);
    expect(Math.round(-2.5)).toBe(-2);
    expect(Math.round(2.5)).toBe(3);
  });

  it("is the nearest integer, ties even (oracle: distance and parity)", () => {
    fc.assert(
      fc.property(fc.oneof(finite, halfway), (x) => {
        const r = roundHalfToEven(x);
        expect(Number.isInteger(r)).toBe(true);
        expect(Math.abs(r - x)).toBeLessThanOrEqual(0.5);
        if (Math.abs(r - x) === 0.5) expect(r % 2 === 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("roundHalfAwayFromZero", () => {
  it("golden ties go away from zero, like C roundf", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map(roundHalfAwayFromZero)).toEqual([1, 2, 3, -1, -2, -3]);
    expect(Object.is(roundHalfAwayFromZero(-0.2), 0)).toBe(true);
  });

  it("is the nearest integer, ties away from zero, and odd-symmetric", () => {
    fc.assert(
      fc.property(fc.oneof(finite, halfway), (x) => {
        const r = roundHalfAwayFromZero(x);
        expect(Math.abs(r - x)).toBeLessThanOrEqual(0.5);
        if (Math.abs(r - x) === 0.5) expect(Math.abs(r)).toBeGreaterThan(Math.abs(x));
        expect(roundHalfAwayFromZero(-x)).toBe(r === 0 ? 0 : -r);
      }),
      { numRuns: 2000 },
    );
  });
});
