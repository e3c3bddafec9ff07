// Oracles: direct loops (min-max), numpy's linear-interpolated percentile on literal data, and exhaustive
// recomputation of the search objective (the chosen candidate's loss is reproduced and no candidate beats it).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_ALPHA_GRID,
  cosineSimilarity,
  minMax,
  minMaxPerChannel,
  mse,
  outputLoss,
  percentileRange,
  ptq4vitAlphaGrid,
  searchClippingRange,
  searchWeightRangePerChannel,
} from "../../src/quant/calibrate.js";
import { chooseQParams, chooseQParamsPerChannel, fakeQuantize } from "../../src/quant/qtensor.js";
import { Rng } from "../../src/tensor/rng.js";

/** Float reference linear layer y[m, n] = sum_k x[m, k] w[n, k] (float64 accumulation, float32 output). */
function linear(x: Float32Array, w: Float32Array, m: number, n: number, k: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += x[i * k + t] * w[j * k + t];
      y[i * n + j] = s;
    }
  return y;
}

/** Heavy-tailed samples: Laplace body plus a few large outliers, the case clipping helps. */
function heavyTailed(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform() - 0.5;
    x[i] = -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
  for (let i = 0; i < 4; i++) x[rng.int(0, n)] = (rng.uniform() < 0.5 ? -1 : 1) * rng.uniformIn(20, 30);
  return x;
}

describe("observers", () => {
  it("minMax: golden values, NaN ignored, empty rejected", () => {
    expect(minMax(Float32Array.of(3, -1, Number.NaN, 2))).toEqual({ min: -1, max: 3 });
    expect(() => minMax(new Float32Array(0))).toThrow(RangeError);
  });

  it("minMaxPerChannel equals a loop over each channel's elements", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.integer(), (shape, axisSeed, seed) => {
        const axis = axisSeed % shape.length;
        const rng = new Rng(seed);
        const size = shape.reduce((a, b) => a * b, 1);
        const x = Float32Array.from({ length: size }, () => rng.normal());
        const { min, max } = minMaxPerChannel(x, shape, axis);
        const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        for (let c = 0; c < shape[axis]; c++) {
          const vals = Array.from(x).filter((_, i) => Math.floor(i / inner) % shape[axis] === c);
          expect(min[c]).toBe(Math.min(...vals));
          expect(max[c]).toBe(Math.max(...vals));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("percentileRange matches numpy's linear percentile on literal data", () => {
    const x = Float32Array.from({ length: 101 }, (_, i) => i - 50); // -50..50
    expect(percentileRange(x, 99, "tails")).toEqual({ min: -49, max: 49 });
    expect(percentileRange(x, 100, "tails")).toEqual({ min: -50, max: 50 });
    expect(percentileRange(x, 50, "abs")).toEqual({ min: -25, max: 25 }); // median of |x| = 25
    expect(percentileRange(Float32Array.of(1, 2, 3, 4), 50, "tails")).toEqual({ min: 2.5, max: 2.5 });
    expect(percentileRange(Float32Array.of(4, 1, 3, 2), 75, "tails")).toEqual({ min: 1.75, max: 3.25 });
    expect(() => percentileRange(x, 101, "abs")).toThrow(RangeError);
  });

  it("percentileRange at 100% is the min-max (tails) or max |x| (abs) range, and shrinks with the percent", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const x = heavyTailed(new Rng(seed), 500);
        const mm = minMax(x);
        const maxAbs = Math.max(-mm.min, mm.max);
        expect(percentileRange(x, 100, "tails")).toEqual(mm);
        expect(percentileRange(x, 100, "abs")).toEqual({ min: -maxAbs, max: maxAbs });
        const p9999 = percentileRange(x, 99.99, "abs");
        const p99 = percentileRange(x, 99, "abs");
        expect(p99.max).toBeLessThanOrEqual(p9999.max);
        expect(p9999.max).toBeLessThanOrEqual(maxAbs);
      }),
      { numRuns: 50 },
    );
  });
});

describe("metrics", () => {
  it("golden mse, cosine and losses", () => {
    const a = Float32Array.of(1, 0);
    const b = Float32Array.of(0, 1);
    expect(mse(a, b)).toBe(1);
    expect(cosineSimilarity(a, b)).toBe(0);
    expect(cosineSimilarity(a, Float32Array.of(2, 0))).toBe(1);
    expect(outputLoss("cosine", a, Float32Array.of(-3, 0))).toBe(2);
    expect(outputLoss("mse", a, a)).toBe(0);
  });

  it("grids: default is 100 alphas 0.5..1 including 1; PTQ4ViT's is eqAlpha + i (eqBeta - eqAlpha) / eqN", () => {
    expect(DEFAULT_ALPHA_GRID.length).toBe(100);
    expect([DEFAULT_ALPHA_GRID[0], DEFAULT_ALPHA_GRID[99]]).toEqual([0.5, 1]);
    const g = ptq4vitAlphaGrid(0, 1, 100);
    expect(g.length).toBe(100);
    expect([g[0], g[99]]).toEqual([0.01, 1]);
  });
});

describe("searchClippingRange", () => {
  const [m, n, k] = [8, 6, 16];

  it("returns the first minimum of the grid, reproducible from its params, never worse than min-max", () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom("mse" as const, "cosine" as const), fc.integer({ min: 3, max: 8 }), (seed, metric, bits) => {
        const rng = new Rng(seed);
        const x = heavyTailed(rng, m * k);
        const w = Float32Array.from({ length: n * k }, () => rng.normal());
        const layer = (xq: Float32Array) => linear(xq, w, m, n, k);
        const alphas = [0.3, 0.55, 0.8, 1];
        const r = searchClippingRange(x, layer, { bits, signed: true, symmetric: false, metric, alphas });
        const ref = layer(x);
        expect(r.loss).toBe(outputLoss(metric, ref, layer(fakeQuantize(x, r.params))));
        expect(r.loss).toBe(Math.min(...r.losses));
        expect(r.alpha).toBe(alphas[r.losses.indexOf(r.loss)]);
        const mm = minMax(x);
        const minMaxLoss = outputLoss(metric, ref, layer(fakeQuantize(x, chooseQParams(mm.min, mm.max, bits, true, false))));
        expect(r.loss).toBeLessThanOrEqual(minMaxLoss);
      }),
      { numRuns: 60 },
    );
  });

  it("clips outliers: on heavy-tailed 4-bit inputs it picks alpha < 1 and beats min-max on the layer output", () => {
    const rng = new Rng(2022);
    const x = heavyTailed(rng, m * k * 8);
    const w = Float32Array.from({ length: n * k }, () => rng.normal());
    const layer = (xq: Float32Array) => linear(xq, w, m * 8, n, k);
    const r = searchClippingRange(x, layer, { bits: 4, signed: true, symmetric: true, metric: "mse" });
    expect(r.alpha).toBeLessThan(1);
    expect(r.loss).toBeLessThan(r.losses[r.losses.length - 1]); // last alpha of the default grid is 1: min-max
  });
});

describe("searchWeightRangePerChannel", () => {
  it("equals searching each output channel alone, and never loses to per-channel min-max", () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom("mse" as const, "cosine" as const), (seed, metric) => {
        const rng = new Rng(seed);
        const [m, n, k] = [5, 4, 12];
        const x = Float32Array.from({ length: m * k }, () => rng.normal());
        const w = heavyTailed(rng, n * k);
        const layer = (wq: Float32Array) => linear(x, wq, m, n, k);
        const alphas = [0.4, 0.6, 0.8, 1];
        const opts = { bits: 4, signed: true, symmetric: true, narrow: true, metric, alphas };
        const r = searchWeightRangePerChannel(w, [n, k], 0, layer, { shape: [m, n], axis: 1 }, opts);
        expect(r.params.axis).toBe(0);
        const ref = layer(w);
        const column = (y: Float32Array, c: number) => Float32Array.from({ length: m }, (_, i) => y[i * n + c]);
        const { min, max } = minMaxPerChannel(w, [n, k], 0);
        for (let c = 0; c < n; c++) {
          let bestAlpha = 0;
          let bestLoss = Number.POSITIVE_INFINITY;
          for (const alpha of alphas) {
            const p = chooseQParamsPerChannel(min.map((v) => alpha * v), max.map((v) => alpha * v), 0, 4, true, true, { narrow: true });
            const wq = w.slice();
            wq.set(fakeQuantize(w, p, [n, k]).subarray(c * k, (c + 1) * k), c * k); // quantize channel c only
            const loss = outputLoss(metric, column(ref, c), column(layer(wq), c));
            if (loss < bestLoss) [bestLoss, bestAlpha] = [loss, alpha];
          }
          expect(r.alphas[c]).toBe(bestAlpha);
          expect(r.losses[c]).toBe(bestLoss);
        }
      }),
      { numRuns: 40 },
    );
  });
});
