// Gradient checks of softmax and logSoftmax along any axis, and of cross-entropy with label smoothing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { param } from "../../src/train/autograd.js";
import { crossEntropy, logSoftmax, softmax } from "../../src/train/grad_softmax.js";
import { gradCheck, randTensor } from "./gradcheck.js";
import * as R from "./ref64.js";

const RUNS = { numRuns: 30, seed: 20240618 };

describe("softmax and logSoftmax", () => {
  for (const log of [false, true]) {
    it(log ? "logSoftmax" : "softmax", () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }), fc.nat(), (dims, seed) => {
          const axis = seed % dims.length;
          gradCheck({
            inputs: [randTensor(new Rng(seed), dims, 2)],
            f32: ([x]) => (log ? logSoftmax(x, axis) : softmax(x, axis)),
            f64: ([x]) => R.softmax(x, axis, log),
            seed,
          });
        }),
        RUNS,
      );
    });
  }
});

describe("crossEntropy", () => {
  it("mean over rows, label smoothing 0..0.3", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 6 }),
        fc.constantFrom(0, 0.1, 0.3),
        fc.nat(),
        (N, K, smoothing, seed) => {
          const rng = new Rng(seed);
          const labels = Array.from({ length: N }, () => rng.int(0, K));
          gradCheck({
            inputs: [randTensor(rng, [N, K], 2)],
            f32: ([z]) => crossEntropy(z, labels, { labelSmoothing: smoothing }),
            f64: ([z]) => R.crossEntropy(z, labels, smoothing),
            seed,
          });
        },
      ),
      RUNS,
    );
  });

  it("rejects bad labels and shapes", () => {
    const z = param(Tensor.zeros([2, 3]));
    expect(() => crossEntropy(z, [0, 3])).toThrow(/label 3/);
    expect(() => crossEntropy(z, [0])).toThrow(/1 labels for 2 rows/);
    expect(() => crossEntropy(z, [0, 1], { labelSmoothing: 1 })).toThrow(/labelSmoothing/);
  });
});
