// Gradient checks of LayerNorm and BatchNorm (batch statistics, gradients through mean and variance; running
// statistics), with and without affine parameters, plus the running-statistics update.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { constant } from "../../src/train/autograd.js";
import { batchNorm, layerNorm } from "../../src/train/grad_norm.js";
import { expectClose } from "../helpers/close.js";
import { gradCheck, randTensor, uniformTensor } from "./gradcheck.js";
import * as R from "./ref64.js";

const RUNS = { numRuns: 30, seed: 20240617 };

describe("layerNorm", () => {
  it("over the last dim, affine optional", () => {
    fc.assert(
      fc.property(
        fc.record({
          lead: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
          D: fc.integer({ min: 2, max: 8 }),
          affine: fc.boolean(),
          eps: fc.constantFrom(1e-5, 1e-6),
          seed: fc.nat(),
        }),
        ({ lead, D, affine, eps, seed }) => {
          const rng = new Rng(seed);
          const inputs = [randTensor(rng, [...lead, D]), ...(affine ? [randTensor(rng, [D]), randTensor(rng, [D])] : [])];
          gradCheck({
            inputs,
            f32: ([x, w, b]) => layerNorm(x, w ?? null, b ?? null, eps),
            f64: ([x, w, b]) => R.layerNorm(x, w ?? null, b ?? null, eps),
            seed,
          });
        },
      ),
      RUNS,
    );
  });
});

const bnCase = fc.record({
  N: fc.integer({ min: 2, max: 3 }),
  C: fc.integer({ min: 1, max: 3 }),
  spatial: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  affine: fc.boolean(),
  seed: fc.nat(),
});

describe("batchNorm", () => {
  it("training mode: batch statistics", () => {
    fc.assert(
      fc.property(bnCase, ({ N, C, spatial, affine, seed }) => {
        const rng = new Rng(seed);
        const inputs = [randTensor(rng, [N, C, ...spatial]), ...(affine ? [randTensor(rng, [C]), randTensor(rng, [C])] : [])];
        gradCheck({
          inputs,
          f32: ([x, w, b]) => batchNorm(x, { weight: w ?? null, bias: b ?? null, runningMean: null, runningVar: null, eps: 1e-5 }, true),
          f64: ([x, w, b]) => R.batchNorm(x, w ?? null, b ?? null, 1e-5, null),
          seed,
        });
      }),
      RUNS,
    );
  });

  it("eval mode: running statistics", () => {
    fc.assert(
      fc.property(bnCase, ({ N, C, spatial, affine, seed }) => {
        const rng = new Rng(seed);
        const mean = randTensor(rng, [C]);
        const vari = uniformTensor(rng, [C], 0.3, 2);
        const inputs = [randTensor(rng, [N, C, ...spatial]), ...(affine ? [randTensor(rng, [C]), randTensor(rng, [C])] : [])];
        gradCheck({
          inputs,
          f32: ([x, w, b]) => batchNorm(x, { weight: w ?? null, bias: b ?? null, runningMean: mean, runningVar: vari, eps: 1e-5 }, false),
          f64: ([x, w, b]) => R.batchNorm(x, w ?? null, b ?? null, 1e-5, { mean: R.fromTensor(mean), var: R.fromTensor(vari) }),
          seed,
        });
      }),
      RUNS,
    );
  });

  it("training mode updates the running statistics with momentum (unbiased variance), as PyTorch", () => {
    const x = Tensor.from([2, 1, 2], [1, 2, 3, 6]); // mean 3, biased var 3.5, unbiased 14/3
    const runningMean = Tensor.from([1], [1]);
    const runningVar = Tensor.from([1], [1]);
    batchNorm(constant(x), { weight: null, bias: null, runningMean, runningVar, eps: 1e-5, momentum: 0.1 }, true);
    expectClose(runningMean.data, [0.9 * 1 + 0.1 * 3], { atol: 1e-6, rtol: 0 }, "running_mean");
    expectClose(runningVar.data, [0.9 * 1 + (0.1 * 14) / 3], { atol: 1e-6, rtol: 0 }, "running_var");
    expect(() => batchNorm(constant(x), { weight: null, bias: null, runningMean: null, runningVar: null, eps: 1e-5 }, false)).toThrow(/running statistics/);
  });
});
