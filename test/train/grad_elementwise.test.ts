// Gradient checks (float64 finite differences) of the broadcasting binary ops and the unary activations.
import fc from "fast-check";
import { describe, it } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { add, div, exp, gelu, log, mul, relu, sub } from "../../src/train/grad_elementwise.js";
import { gradCheck, randTensor, uniformTensor } from "./gradcheck.js";
import * as R from "./ref64.js";

const RUNS = { numRuns: 25, seed: 20240611 };

/** A shape of rank 1..3 with dims 1..4, and a shape broadcasting into it (some dims 1, maybe lower rank). */
const broadcastPair = fc
  .record({
    dims: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
    ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    drop: fc.integer({ min: 0, max: 2 }),
    swap: fc.boolean(),
    seed: fc.nat(),
  })
  .map(({ dims, ones, drop, swap, seed }) => {
    const small = dims.map((d, i) => (ones[i] ? 1 : d)).slice(Math.min(drop, dims.length - 1));
    return { a: swap ? small : dims, b: swap ? dims : small, seed };
  });

describe("binary ops with broadcasting", () => {
  const cases = [
    ["add", add, (x: number, y: number) => x + y],
    ["sub", sub, (x: number, y: number) => x - y],
    ["mul", mul, (x: number, y: number) => x * y],
  ] as const;
  for (const [name, op, f] of cases) {
    it(`${name}: gradients of both operands, summed over broadcast dims`, () => {
      fc.assert(
        fc.property(broadcastPair, ({ a, b, seed }) => {
          const rng = new Rng(seed);
          gradCheck({
            inputs: [randTensor(rng, a), randTensor(rng, b)],
            f32: ([x, y]) => op(x, y),
            f64: ([x, y]) => R.binary(x, y, f),
            seed,
          });
        }),
        RUNS,
      );
    });
  }

  it("div: divisor kept in [0.5, 2] in magnitude", () => {
    fc.assert(
      fc.property(broadcastPair, fc.boolean(), ({ a, b, seed }, negative) => {
        const rng = new Rng(seed);
        const den = uniformTensor(rng, b, 0.5, 2);
        if (negative) den.data.forEach((v, i) => (den.data[i] = -v));
        gradCheck({ inputs: [randTensor(rng, a), den], f32: ([x, y]) => div(x, y), f64: ([x, y]) => R.binary(x, y, (p, q) => p / q), seed });
      }),
      RUNS,
    );
  });

  it("numbers act as constants", () => {
    fc.assert(
      fc.property(broadcastPair, fc.double({ min: -3, max: 3, noNaN: true }), ({ a, seed }, k) => {
        const kf = Math.fround(k);
        const rng = new Rng(seed);
        gradCheck({ inputs: [randTensor(rng, a)], f32: ([x]) => mul(add(x, kf), kf), f64: ([x]) => R.map(x, (v) => (v + kf) * kf), seed });
      }),
      RUNS,
    );
  });
});

describe("unary ops", () => {
  const shape = fc.record({ dims: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }), seed: fc.nat() });

  it("relu (inputs kept 1e-2 away from the kink at 0)", () => {
    fc.assert(
      fc.property(shape, ({ dims, seed }) => {
        const x = randTensor(new Rng(seed), dims);
        x.data.forEach((v, i) => (x.data[i] = Math.abs(v) < 1e-2 ? v + 0.05 : v));
        gradCheck({ inputs: [x], f32: ([v]) => relu(v), f64: ([v]) => R.map(v, (t) => Math.max(0, t)), seed });
      }),
      RUNS,
    );
  });

  it("gelu (exact erf form; derivative Phi(x) + x phi(x))", () => {
    fc.assert(
      fc.property(shape, ({ dims, seed }) => {
        gradCheck({ inputs: [randTensor(new Rng(seed), dims, 2)], f32: ([v]) => gelu(v), f64: ([v]) => R.map(v, R.gelu), seed });
      }),
      RUNS,
    );
  });

  it("exp", () => {
    fc.assert(
      fc.property(shape, ({ dims, seed }) => {
        gradCheck({ inputs: [randTensor(new Rng(seed), dims)], f32: ([v]) => exp(v), f64: ([v]) => R.map(v, Math.exp), seed });
      }),
      RUNS,
    );
  });

  it("log (inputs in [0.2, 3])", () => {
    fc.assert(
      fc.property(shape, ({ dims, seed }) => {
        gradCheck({ inputs: [uniformTensor(new Rng(seed), dims, 0.2, 3)], f32: ([v]) => log(v), f64: ([v]) => R.map(v, Math.log), seed });
      }),
      RUNS,
    );
  });
});
