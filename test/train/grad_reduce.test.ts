// Gradient checks of sum and mean over any subset of axes, with and without keepDims.
import fc from "fast-check";
import { describe, it } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { mean, sum } from "../../src/train/grad_reduce.js";
import { gradCheck, randTensor } from "./gradcheck.js";
import * as R from "./ref64.js";

const RUNS = { numRuns: 30, seed: 20240613 };

const reduceCase = fc.record({
  dims: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
  mask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  all: fc.boolean(),
  keepDims: fc.boolean(),
  seed: fc.nat(),
});

describe("sum and mean", () => {
  for (const kind of ["sum", "mean"] as const) {
    it(`${kind} over axes`, () => {
      fc.assert(
        fc.property(reduceCase, ({ dims, mask, all, keepDims, seed }) => {
          const axes = all ? dims.map((_, i) => i) : dims.map((_, i) => i).filter((i) => mask[i]);
          const op = kind === "sum" ? sum : mean;
          gradCheck({
            inputs: [randTensor(new Rng(seed), dims)],
            f32: ([x]) => (all ? op(x, undefined, { keepDims }) : op(x, axes, { keepDims })),
            f64: ([x]) => R.reduce(x, axes, kind, keepDims),
            seed,
          });
        }),
        RUNS,
      );
    });
  }
});
