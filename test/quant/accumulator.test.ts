// Oracle: BigInt sums of worst-case inputs. The bound function must be exact: K at the limit fits int32 for the
// worst input, K + 1 is rejected (and that worst input would indeed leave int32).
import { describe, expect, it } from "vitest";
import {
  MAX_K_8BIT_ANY_ZERO_POINTS,
  MAX_K_8BIT_SYMMETRIC_WEIGHTS,
  assertNoInt32Overflow,
  maxAbsAccumulator,
  maxCenteredMagnitude,
  maxSupportedK,
  type AccumulatorOperand,
} from "../../src/quant/accumulator.js";
import { INT32_MAX_BIG } from "./oracle.js";

const uint8Any: AccumulatorOperand = { bits: 8, signed: false, zeroPoint: 255 }; // |a - zA| up to 255
const int8Sym: AccumulatorOperand = { bits: 8, signed: true, zeroPoint: 0 }; // |w| up to 128
const int8Any: AccumulatorOperand = { bits: 8, signed: true, zeroPoint: Int32Array.of(0, 127, -3) }; // up to 255

describe("accumulator bound", () => {
  it("documents the max K for 8 x 8 bits", () => {
    expect(maxSupportedK(uint8Any, int8Sym)).toBe(MAX_K_8BIT_SYMMETRIC_WEIGHTS);
    expect(maxSupportedK(uint8Any, int8Any)).toBe(MAX_K_8BIT_ANY_ZERO_POINTS);
    expect(MAX_K_8BIT_SYMMETRIC_WEIGHTS).toBe(65793);
    expect(MAX_K_8BIT_ANY_ZERO_POINTS).toBe(33025);
  });

  it("max centered magnitude covers every code and zero point", () => {
    expect(maxCenteredMagnitude({ bits: 8, signed: true, zeroPoint: 0 })).toBe(128);
    expect(maxCenteredMagnitude({ bits: 8, signed: true, narrow: true, zeroPoint: 0 })).toBe(127);
    expect(maxCenteredMagnitude({ bits: 4, signed: false, zeroPoint: 3 })).toBe(12);
    expect(maxCenteredMagnitude({ bits: 8, signed: false, zeroPoint: Int32Array.of(0, 255) })).toBe(255);
  });

  it("is exact for every width pair: the worst input at max K fits int32 (BigInt), at max K + 1 it does not", () => {
    for (let aBits = 2; aBits <= 8; aBits++) {
      for (let wBits = 2; wBits <= 8; wBits++) {
        for (const bias of [0, 12345]) {
          const a: AccumulatorOperand = { bits: aBits, signed: false, zeroPoint: 2 ** aBits - 1 }; // a - zA down to -(2^b - 1)
          const w: AccumulatorOperand = { bits: wBits, signed: true, zeroPoint: 0 }; // w down to -2^(b-1)
          const k = maxSupportedK(a, w, bias);
          const worstTerm = BigInt(2 ** aBits - 1) * BigInt(2 ** (wBits - 1));
          expect(BigInt(k) * worstTerm + BigInt(bias) <= INT32_MAX_BIG).toBe(true);
          expect(BigInt(k + 1) * worstTerm + BigInt(bias) > INT32_MAX_BIG).toBe(true);
          expect(() => assertNoInt32Overflow("test", k, a, w, bias)).not.toThrow();
          expect(() => assertNoInt32Overflow("test", k + 1, a, w, bias)).toThrow(/int32 accumulator may overflow/);
          expect(maxAbsAccumulator(k, a, w, bias)).toBe(Number(BigInt(k) * worstTerm) + bias);
        }
      }
    }
  });

  it("error message names the op and the largest supported K", () => {
    expect(() => assertNoInt32Overflow("qconv2d", 70000, uint8Any, int8Sym)).toThrow(/qconv2d: .*largest supported K here is 65793/);
  });
});
