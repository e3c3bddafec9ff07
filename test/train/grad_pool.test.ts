// Gradient checks of max / average / global average pooling (kernel, stride, padding, ceil mode, countIncludePad).
import fc from "fast-check";
import { describe, it } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { avgPool2d, globalAvgPool2d, maxPool2d } from "../../src/train/grad_pool.js";
import { gradCheck, randTensor } from "./gradcheck.js";
import * as R from "./ref64.js";

const RUNS = { numRuns: 40, seed: 20240616 };

const poolCase = fc.record({
  N: fc.integer({ min: 1, max: 2 }),
  C: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 1, max: 7 }),
  W: fc.integer({ min: 1, max: 7 }),
  kernel: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 3 }),
  padRaw: fc.integer({ min: 0, max: 1 }),
  ceilMode: fc.boolean(),
  countIncludePad: fc.boolean(),
  seed: fc.nat(),
});

describe("pooling", () => {
  for (const mode of ["max", "avg"] as const) {
    it(`${mode}Pool2d`, () => {
      fc.assert(
        fc.property(poolCase, ({ N, C, H, W, kernel, stride, padRaw, ceilMode, countIncludePad, seed }) => {
          const padding = Math.min(padRaw, Math.floor(kernel / 2));
          fc.pre(H + 2 * padding >= kernel && W + 2 * padding >= kernel);
          const opts = { stride, padding, ceilMode, countIncludePad };
          const op = mode === "max" ? maxPool2d : avgPool2d;
          // Normal samples: a tie within the 1e-5 finite-difference step has negligible probability.
          gradCheck({
            inputs: [randTensor(new Rng(seed), [N, C, H, W])],
            f32: ([x]) => op(x, kernel, opts),
            f64: ([x]) => R.pool2d(x, mode, { kernel, ...opts }),
            seed,
          });
        }),
        RUNS,
      );
    });
  }

  it("globalAvgPool2d", () => {
    fc.assert(
      fc.property(poolCase, ({ N, C, H, W, seed }) => {
        gradCheck({
          inputs: [randTensor(new Rng(seed), [N, C, H, W])],
          f32: ([x]) => globalAvgPool2d(x),
          f64: ([x]) => R.reduce(x, [2, 3], "mean", false),
          seed,
        });
      }),
      RUNS,
    );
  });
});
