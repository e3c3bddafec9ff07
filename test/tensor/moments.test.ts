// One-pass BatchNorm batch statistics (kernels/cpu/moments.ts) against the two-pass float64 reference
// (style.md C5, C8a), and batchStats / batchNorm(useBatchStats) on every CPU backend against the reference.
// Tolerance: both return float32 (one rounding, 6e-8 relative) of float64 results; the shifted one-pass sums
// add a relative error of about n * 1.1e-16 * ((mean - pivot)^2 / var + 1), far below 1e-6 at the sizes here.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cpuBackend, referenceBackend, simdBackend } from "../../src/tensor/backends.js";
import { batchMoments, batchMomentsNaive } from "../../src/tensor/kernels/cpu/moments.js";
import { Rng, Tensor, batchNorm, batchStats, withBackend } from "../../src/tensor/index.js";
import type { Backend } from "../../src/tensor/backend.js";
import { type Tolerance, expectClose } from "../helpers/close.js";

const TOL: Tolerance = { atol: 1e-6, rtol: 1e-6 };

function data(shape: number[], rng: Rng, offset: number, scale: number): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * rng.normal();
  return new Tensor(shape, a);
}

/** The textbook one-pass formula in float32 (E[x^2] - E[x]^2), to show the large-offset data is a real test. */
function onePassFloat32(x: Tensor): Float32Array {
  const [N, C] = x.shape;
  const S = x.size / (N * C);
  const out = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let s = Math.fround(0);
    let q = Math.fround(0);
    for (let b = 0; b < N; b++) {
      for (let i = 0; i < S; i++) {
        const v = x.data[(b * C + c) * S + i];
        s = Math.fround(s + v);
        q = Math.fround(q + Math.fround(v * v));
      }
    }
    const m = Math.fround(s / (N * S));
    out[c] = Math.fround(q / (N * S)) - Math.fround(m * m);
  }
  return out;
}

describe("batchMoments vs batchMomentsNaive", () => {
  it("agrees on random shapes, offsets and scales", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 6 }),
          c: fc.integer({ min: 1, max: 5 }),
          h: fc.integer({ min: 1, max: 9 }),
          w: fc.integer({ min: 1, max: 9 }),
          offset: fc.constantFrom(0, -3, 100, 1e4),
          scale: fc.constantFrom(1e-3, 1, 50),
          seed: fc.integer({ min: 0, max: 2 ** 31 }),
        }),
        (p) => {
          const x = data([p.n, p.c, p.h, p.w], new Rng(p.seed), p.offset, p.scale);
          const got = batchMoments({ x });
          const want = batchMomentsNaive({ x });
          expect([...got.shape]).toEqual([2, p.c]);
          expectClose(got.data.subarray(0, p.c), want.data.subarray(0, p.c), TOL, "mean");
          // variance relative to its own size (atol scaled by scale^2: a variance of 1e-6 is not 0 here)
          expectClose(got.data.subarray(p.c), want.data.subarray(p.c), { atol: 1e-6 * p.scale * p.scale, rtol: 1e-6 }, "variance");
        },
      ),
      { numRuns: 150, seed: 17 },
    );
  });

  it("keeps the variance accurate under a large mean offset (1e4 + N(0, 1), a ResNet-20 stage-1 batch)", () => {
    const x = data([64, 4, 32, 32], new Rng(1), 1e4, 1);
    const got = batchMoments({ x });
    const want = batchMomentsNaive({ x });
    const tol: Tolerance = { atol: 0, rtol: 1e-6 };
    expectClose(got.data, want.data, tol, "mean and variance");
    // the same data breaks the unshifted float32 one-pass formula by far more than the tolerance
    const bad = onePassFloat32(x);
    const worst = Math.max(...Array.from(bad, (v, c) => Math.abs(v - want.data[4 + c]) / want.data[4 + c]));
    expect(worst).toBeGreaterThan(1e-2);
  });

  it("gives variance 0 for a constant channel and NaN for an empty batch", () => {
    const x = Tensor.full([3, 2, 5], 7.25);
    expect(Array.from(batchMoments({ x }).data)).toEqual([7.25, 7.25, 0, 0]);
    const empty = new Tensor([0, 3, 4]);
    expect(Array.from(batchMoments({ x: empty }).data).every(Number.isNaN)).toBe(true);
    expect(Array.from(batchMomentsNaive({ x: empty }).data).every(Number.isNaN)).toBe(true);
  });
});

describe("batchStats and batchNorm with batch statistics on every CPU backend", () => {
  const backends: Backend[] = [cpuBackend, ...(simdBackend ? [simdBackend] : [])];
  it.each(backends.map((b) => [b.name, b] as const))("%s matches the reference backend", (_, b) => {
    const rng = new Rng(9);
    const x = data([5, 6, 7, 3], rng, 20, 2);
    const weight = data([6], rng, 1, 0.5);
    const bias = data([6], rng, 0, 0.5);
    const p = { weight, bias, runningMean: null, runningVar: null, eps: 1e-5 };
    const run = (be: Backend) => withBackend(be, () => ({ stats: batchStats(x), y: batchNorm(x, p, true) }));
    const got = run(b);
    const want = run(referenceBackend);
    expect([...got.stats.mean.shape]).toEqual([6]);
    expectClose(got.stats.mean.data, want.stats.mean.data, TOL, "mean");
    expectClose(got.stats.variance.data, want.stats.variance.data, TOL, "variance");
    expectClose(got.y.data, want.y.data, { atol: 1e-5, rtol: 1e-5 }, "batchNorm output");
  });

  it("names the op when x has no channel dim", () => {
    expect(() => batchStats(new Tensor([4]))).toThrow(/batchStats/);
  });
});
