// Winograd F(2x2, 3x3) integer conv (kernels/simd/qwinograd.ts) against the reference loops qconv2dNaive, bit for bit:
// random eligible geometries (even C, K % 4 == 0, OW % 8 == 0, several images and chunks), signed and unsigned
// inputs with any zero point, bias; the extreme codes that bound the int16 transforms and the int32 4Y; shapes it does
// not apply to (they run the direct conv, still bit-exact); and the ResNet-20 layer shapes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type QConv2dParams, qconv2dNaive } from "../../src/quant/kernels/cpu/qconv2d.js";
import { qconv2dWinograd, simdQKernels, winogradApplies } from "../../src/quant/kernels/simd/index.js";
import type { QCodes } from "../../src/quant/qtensor.js";
import { Rng } from "../../src/tensor/rng.js";
import { simdSupported } from "../../src/wasm/features.js";
import { expectBitExact, randomCodes } from "./oracle.js";

function params(n: number, c: number, h: number, w: number, k: number, xZeroPoint: number, over: Partial<QConv2dParams> = {}): QConv2dParams {
  return {
    inputShape: [n, c, h, w],
    weightShape: [k, c, 3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    groups: 1,
    xZeroPoint,
    wZeroPoint: new Int32Array(k),
    ...over,
  };
}

function expectSame(x: QCodes, w: QCodes, bias: Int32Array | null, p: QConv2dParams): void {
  expectBitExact(qconv2dWinograd(x, w, bias, p), qconv2dNaive(x, w, bias, p), `winograd ${JSON.stringify(p.inputShape)} -> ${p.weightShape[0]}`);
}

describe.skipIf(!simdSupported())("qconv2dWinograd (skipped: this engine has no WebAssembly SIMD128)", () => {
  it("equals qconv2dNaive bit for bit on eligible geometries (signedness, zero points, bias, chunks)", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 5 }),
          pairs: fc.integer({ min: 1, max: 6 }),
          kq: fc.integer({ min: 1, max: 4 }),
          h2: fc.integer({ min: 1, max: 6 }),
          w8: fc.integer({ min: 1, max: 3 }),
          signed: fc.boolean(),
          withBias: fc.boolean(),
          seed: fc.integer(),
        }),
        (g) => {
          const rng = new Rng(g.seed);
          const [c, k, h, w] = [2 * g.pairs, 4 * g.kq, 2 * g.h2, 8 * g.w8];
          const z = g.signed ? rng.int(-128, 128) : rng.int(0, 256);
          const x = randomCodes(rng, g.n * c * h * w, g.signed);
          const wt = randomCodes(rng, k * c * 9, true);
          const bias = g.withBias ? Int32Array.from({ length: k }, () => rng.int(-(2 ** 20), 2 ** 20)) : null;
          const p = params(g.n, c, h, w, k, z);
          expect(winogradApplies(wt, bias, p, g.signed)).toBe(true);
          expectSame(x, wt, bias, p);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("extreme codes: the largest |V| and |U| and the largest 4Y still come out exact", () => {
    const [n, c, h, w, k] = [2, 64, 8, 16, 8];
    for (const [xv, zx, wv] of [
      [255, 0, 127],
      [255, 0, -128],
      [0, 255, -128],
      [255, 255, 127],
    ] as const) {
      const x = new Uint8Array(n * c * h * w).fill(xv);
      // alternating signs within rows push the transformed inputs to their extremes too
      const xs = x.map((v, i) => (i % 2 === 0 ? v : 255 - v));
      const wt = new Int8Array(k * c * 9).map((_, i) => (i % 3 === 1 ? -wv : wv));
      const p = params(n, c, h, w, k, zx);
      expect(winogradApplies(wt, null, p, false)).toBe(true);
      expectSame(x, wt, null, p);
      expectSame(xs, wt, null, p);
    }
  });

  it("falls back to the direct conv where it does not apply, still bit-exact", () => {
    const rng = new Rng(3);
    const cases: [number, number, number, number, number, Partial<QConv2dParams>][] = [
      [2, 3, 8, 8, 4, {}], // odd C
      [2, 4, 8, 8, 6, {}], // K % 4 != 0
      [2, 4, 6, 12, 4, {}], // OW % 8 != 0
      [2, 4, 8, 8, 4, { stride: [2, 2] }],
      [2, 4, 8, 8, 4, { padding: [0, 0] }],
      [2, 4, 8, 8, 4, { wZeroPoint: Int32Array.of(1, 0, 0, 0) }],
    ];
    for (const [n, c, h, w, k, over] of cases) {
      const p = params(n, c, h, w, k, 7, over);
      const x = randomCodes(rng, n * c * h * w, false);
      const wt = randomCodes(rng, k * c * 9, true);
      expect(winogradApplies(wt, null, p, false)).toBe(false);
      expectSame(x, wt, null, p);
    }
  });

  it("ResNet-20's 3x3 stride-1 layers, 17 images (partial last chunk); the SIMD kernel set uses it", () => {
    const rng = new Rng(9);
    for (const [c, h] of [
      [16, 32],
      [32, 16],
      [64, 8],
    ] as const) {
      const p = params(17, c, h, h, c, 0);
      const x = randomCodes(rng, 17 * c * h * h, false);
      const wt = randomCodes(rng, c * c * 9, true);
      const bias = Int32Array.from({ length: c }, () => rng.int(-1000, 1000));
      expect(winogradApplies(wt, bias, p, false)).toBe(true);
      expectSame(x, wt, bias, p);
      expect(simdQKernels()?.qconv2d).toBe(qconv2dWinograd);
    }
  });
});
