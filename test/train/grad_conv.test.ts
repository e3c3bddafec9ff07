// Gradient checks of conv2d: input, weight and bias gradients over strides, paddings (up to the kernel size,
// where some outputs read padding only), groups and non-square inputs.
import fc from "fast-check";
import { describe, it } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { conv2d } from "../../src/train/grad_conv.js";
import { gradCheck, randTensor } from "./gradcheck.js";
import * as R from "./ref64.js";

const RUNS = { numRuns: 40, seed: 20240615 };

describe("conv2d", () => {
  it("dx, dw, db for stride 1..3, padding 0..k, groups 1..3", () => {
    fc.assert(
      fc.property(
        fc.record({
          N: fc.integer({ min: 1, max: 2 }),
          G: fc.integer({ min: 1, max: 3 }),
          Cg: fc.integer({ min: 1, max: 2 }),
          Kg: fc.integer({ min: 1, max: 2 }),
          k: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 3 }),
          padFrac: fc.integer({ min: 0, max: 3 }),
          H: fc.integer({ min: 1, max: 7 }),
          W: fc.integer({ min: 1, max: 7 }),
          bias: fc.boolean(),
          seed: fc.nat(),
        }),
        ({ N, G, Cg, Kg, k, stride, padFrac, H, W, bias, seed }) => {
          const padding = Math.min(k, padFrac);
          fc.pre(H + 2 * padding >= k && W + 2 * padding >= k);
          const rng = new Rng(seed);
          const inputs = [randTensor(rng, [N, G * Cg, H, W]), randTensor(rng, [G * Kg, Cg, k, k]), ...(bias ? [randTensor(rng, [G * Kg])] : [])];
          gradCheck({
            inputs,
            f32: ([x, w, b]) => conv2d(x, w, b ?? null, { stride, padding, groups: G }),
            f64: ([x, w, b]) => R.conv2d(x, w, b ?? null, stride, padding, G),
            seed,
          });
        },
      ),
      RUNS,
    );
  });

  it("the input alone (weights constant) and the weights alone", () => {
    fc.assert(
      fc.property(fc.nat(), fc.boolean(), (seed, inputOnly) => {
        const rng = new Rng(seed);
        gradCheck({
          inputs: [randTensor(rng, [2, 3, 6, 5]), randTensor(rng, [4, 3, 3, 3])],
          wrt: [inputOnly, !inputOnly],
          f32: ([x, w]) => conv2d(x, w, null, { stride: 2, padding: 1 }),
          f64: ([x, w]) => R.conv2d(x, w, null, 2, 1, 1),
          seed,
        });
      }),
      { numRuns: 6, seed: 7 },
    );
  });
});
