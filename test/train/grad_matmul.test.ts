// Gradient checks of matmul (all four transpose combinations, broadcast batch dims) and linear.
import fc from "fast-check";
import { describe, it } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { linear, matmul } from "../../src/train/grad_matmul.js";
import { gradCheck, randTensor } from "./gradcheck.js";
import * as R from "./ref64.js";

const RUNS = { numRuns: 30, seed: 20240612 };

describe("matmul", () => {
  it("transposes and broadcast batch dims", () => {
    fc.assert(
      fc.property(
        fc.record({
          M: fc.integer({ min: 1, max: 4 }),
          K: fc.integer({ min: 1, max: 5 }),
          N: fc.integer({ min: 1, max: 4 }),
          batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
          oneA: fc.boolean(),
          oneB: fc.boolean(),
          tA: fc.boolean(),
          tB: fc.boolean(),
          seed: fc.nat(),
        }),
        ({ M, K, N, batch, oneA, oneB, tA, tB, seed }) => {
          const rng = new Rng(seed);
          // A's batch may be broadcast (size-1 dims or missing), B's too.
          const bA = oneA ? batch.map(() => 1) : batch;
          const bB = oneB ? batch.slice(1) : batch;
          const a = randTensor(rng, [...bA, ...(tA ? [K, M] : [M, K])]);
          const b = randTensor(rng, [...bB, ...(tB ? [N, K] : [K, N])]);
          gradCheck({
            inputs: [a, b],
            f32: ([x, y]) => matmul(x, y, { transposeA: tA, transposeB: tB }),
            f64: ([x, y]) => R.matmul(x, y, tA, tB),
            seed,
          });
        },
      ),
      RUNS,
    );
  });
});

describe("linear", () => {
  it("x [..., in] W^T + b, with and without bias", () => {
    fc.assert(
      fc.property(
        fc.record({
          lead: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
          inF: fc.integer({ min: 1, max: 6 }),
          outF: fc.integer({ min: 1, max: 5 }),
          bias: fc.boolean(),
          seed: fc.nat(),
        }),
        ({ lead, inF, outF, bias, seed }) => {
          const rng = new Rng(seed);
          const inputs = [randTensor(rng, [...lead, inF]), randTensor(rng, [outF, inF]), ...(bias ? [randTensor(rng, [outF])] : [])];
          gradCheck({
            inputs,
            f32: ([x, w, b]) => linear(x, w, b ?? null),
            f64: ([x, w, b]) => R.linear(x, w, b ?? null),
            seed,
          });
        },
      ),
      RUNS,
    );
  });
});
