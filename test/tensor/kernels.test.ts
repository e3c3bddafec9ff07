// Fast CPU kernels against the naive reference loops (style.md C5): packed GEMM vs the triple loop,
// im2col / direct / depthwise conv vs the direct definition, on random shapes chosen by fast-check.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conv2d, conv2dNaive } from "../../src/tensor/kernels/cpu/conv.js";
import { gemmNaive, gemmPacked } from "../../src/tensor/kernels/cpu/gemm.js";
import { Rng, Tensor } from "../../src/tensor/index.js";
import { buildConvCase, convCaseArb, randomData } from "../helpers/conv_cases.js";
import { expectClose } from "../helpers/close.js";
import { gemmViews } from "../helpers/gemm_cases.js";


// Sums of up to K products of values in [-1, 1], accumulated in float64 in a different order.
const TOL = { atol: 1e-5, rtol: 1e-5 };

describe("gemmPacked vs gemmNaive", () => {
  it("agrees on random sizes, strides (transposes), offsets and accumulate", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 37 }),
        fc.integer({ min: 1, max: 37 }),
        fc.integer({ min: 0, max: 300 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (M, N, K, ta, tb, accumulate, seed) => {
          const rng = new Rng(seed);
          const a = randomData(M * K + 3, rng);
          const b = randomData(K * N + 5, rng);
          const [av, bv] = gemmViews(M, N, K, ta, tb, a, b, 3, 5);
          const ldc = N + 2;
          const c1 = randomData(M * ldc + 1, rng);
          const c2 = c1.slice();
          gemmPacked(M, N, K, av, bv, c1, 1, ldc, accumulate);
          gemmNaive(M, N, K, av, bv, c2, 1, ldc, accumulate);
          expectClose(c1, c2, TOL, `gemm ${M}x${N}x${K}`);
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });

  it("crosses the KC / MC / NC block boundaries", () => {
    const rng = new Rng(1);
    for (const [M, N, K] of [[130, 9, 513], [5, 2100, 20], [129, 33, 257]]) {
      const a = randomData(M * K, rng);
      const b = randomData(K * N, rng);
      const c1 = new Float32Array(M * N);
      const c2 = new Float32Array(M * N);
      const av = { data: a, offset: 0, rowStride: K, colStride: 1 };
      const bv = { data: b, offset: 0, rowStride: N, colStride: 1 };
      gemmPacked(M, N, K, av, bv, c1, 0, N);
      gemmNaive(M, N, K, av, bv, c2, 0, N);
      expectClose(c1, c2, { atol: 1e-4, rtol: 1e-5 }, `gemm ${M}x${N}x${K}`);
    }
  });
});

describe("conv2d (im2col / 1x1 / depthwise) vs conv2dNaive", () => {
  it("agrees on random configurations", () => {
    fc.assert(
      fc.property(
        convCaseArb(2, 4, 4, 9),
        (p) => {
          const c = buildConvCase(p);
          fc.pre(c !== null);
          if (!c) return;
          const fast = conv2d(c.inputs, c.attrs);
          const ref = conv2dNaive(c.inputs, c.attrs);
          expect([...fast.shape]).toEqual(c.attrs.outShape);
          expectClose(fast.data, ref.data, TOL, "conv2d");
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});
