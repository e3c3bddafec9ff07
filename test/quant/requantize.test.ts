// Oracles: BigInt MultiplyByQuantizedMultiplier + clamp (bit for bit) for requantize; the float32 product
// acc * float32(sA * sW[c]) for dequantizeAcc; TFLite's double-precision effective scale for the multipliers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quantizeMultiplier } from "../../src/quant/fixedpoint.js";
import { dequantizeAcc, makeRequantizeStage, requantize } from "../../src/quant/kernels/cpu/requantize.js";
import { chooseQParams, chooseQParamsPerChannel } from "../../src/quant/qtensor.js";
import { Rng } from "../../src/tensor/rng.js";
import { ShapeError } from "../../src/tensor/shape.js";
import { expectBitExact, requantizeOracle } from "./oracle.js";

const layoutCase = fc.record({
  outer: fc.integer({ min: 1, max: 3 }),
  channels: fc.integer({ min: 1, max: 5 }),
  inner: fc.integer({ min: 1, max: 6 }),
  perChannel: fc.boolean(),
  bits: fc.integer({ min: 2, max: 8 }),
  signed: fc.boolean(),
  seed: fc.integer(),
});

describe("makeRequantizeStage", () => {
  it("multipliers are quantizeMultiplier(sA * sW[c] / sOut) in double, and the output range is the output's", () => {
    const out = chooseQParams(-2, 6, 8, false, false);
    const sW = Float32Array.of(0.01, 0.02, 0.5);
    const stage = makeRequantizeStage(0.05, sW, out);
    for (let c = 0; c < 3; c++) {
      const q = quantizeMultiplier((0.05 * sW[c]) / out.scale[0]);
      expect([stage.multiplier[c], stage.shift[c]]).toEqual([q.multiplier, q.shift]);
    }
    expect([stage.zeroPoint, stage.qmin, stage.qmax, stage.signed]).toEqual([out.zeroPoint[0], 0, 255, false]);
    const perChannelOut = chooseQParamsPerChannel([-1], [1], 0, 8, true, true);
    expect(() => makeRequantizeStage(0.05, sW, perChannelOut)).toThrow(ShapeError);
  });
});

describe("requantize", () => {
  it("equals the BigInt oracle for any layout (channel = floor(i / inner) % channels) and width", () => {
    fc.assert(
      fc.property(layoutCase, (c) => {
        const rng = new Rng(c.seed);
        const n = c.outer * c.channels * c.inner;
        const acc = Int32Array.from({ length: n }, () => rng.int(-(2 ** 24), 2 ** 24));
        const sW = Float32Array.from({ length: c.perChannel ? c.channels : 1 }, () => rng.uniformIn(1e-4, 1e-2));
        const out = chooseQParams(-rng.uniformIn(0, 50), rng.uniformIn(0.1, 50), c.bits, c.signed, false);
        const stage = makeRequantizeStage(rng.uniformIn(1e-3, 1e-1), sW, out);
        const got = requantize(acc, { channels: c.channels, inner: c.inner }, stage);
        expect(got).toBeInstanceOf(c.signed ? Int8Array : Uint8Array);
        expectBitExact(got, requantizeOracle(acc, c.channels, c.inner, stage), "requantize");
      }),
      { numRuns: 500 },
    );
  });

  it("saturates at the output range ends", () => {
    const out = chooseQParams(-1, 1, 4, true, true, { narrow: true }); // [-7, 7]
    const stage = makeRequantizeStage(1, Float32Array.of(1), out);
    expect(Array.from(requantize(Int32Array.of(-100, 100, 0), { channels: 1, inner: 1 }, stage))).toEqual([-7, 7, 0]);
  });
});

describe("dequantizeAcc", () => {
  it("is acc * float32(sA * sW[c]) rounded to float32", () => {
    fc.assert(
      fc.property(layoutCase, (c) => {
        const rng = new Rng(c.seed);
        const n = c.outer * c.channels * c.inner;
        const acc = Int32Array.from({ length: n }, () => rng.int(-(2 ** 30), 2 ** 30));
        const sA = rng.uniformIn(1e-3, 1e-1);
        const sW = Float32Array.from({ length: c.channels }, () => rng.uniformIn(1e-4, 1e-2));
        const got = dequantizeAcc(acc, { channels: c.channels, inner: c.inner }, sA, sW);
        const want = Array.from(acc, (v, i) => Math.fround(v * Math.fround(sA * sW[Math.floor(i / c.inner) % c.channels])));
        expectBitExact(got, want, "dequantizeAcc");
      }),
      { numRuns: 300 },
    );
  });

  it("per-tensor scale (one sW for every channel) is acc * float32(sA * sW[0])", () => {
    fc.assert(
      fc.property(layoutCase, (c) => {
        const rng = new Rng(c.seed);
        const acc = Int32Array.from({ length: c.outer * c.channels * c.inner }, () => rng.int(-(2 ** 30), 2 ** 30));
        const sA = rng.uniformIn(1e-3, 1e-1);
        const sW = Float32Array.of(rng.uniformIn(1e-4, 1e-2));
        const want = Array.from(acc, (v) => Math.fround(v * Math.fround(sA * sW[0])));
        expectBitExact(dequantizeAcc(acc, { channels: c.channels, inner: c.inner }, sA, sW), want, "dequantizeAcc per-tensor");
      }),
      { numRuns: 100 },
    );
  });

  it("rejects layouts that do not tile the buffer", () => {
    expect(() => dequantizeAcc(new Int32Array(5), { channels: 2, inner: 1 }, 1, Float32Array.of(1, 1))).toThrow(ShapeError);
    expect(() => dequantizeAcc(new Int32Array(4), { channels: 2, inner: 1 }, 1, Float32Array.of(1, 1, 1))).toThrow(ShapeError);
  });
});
