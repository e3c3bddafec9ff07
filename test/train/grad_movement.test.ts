// Gradient checks of reshape, flatten, permute, transpose, slice (steps, negative starts), concat, pad and expand.
import fc from "fast-check";
import { describe, it } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { concat, expand, flatten, pad, permute, reshape, slice, transpose } from "../../src/train/grad_movement.js";
import { mul } from "../../src/train/grad_elementwise.js";
import { gradCheck, randTensor } from "./gradcheck.js";
import * as R from "./ref64.js";

const RUNS = { numRuns: 30, seed: 20240614 };
const dimsArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

describe("movement ops", () => {
  it("reshape and flatten (then a product, so the gradient is not all ones)", () => {
    fc.assert(
      fc.property(dimsArb, fc.nat(), (dims, seed) => {
        const rng = new Rng(seed);
        const size = dims.reduce((p, d) => p * d, 1);
        const w = randTensor(rng, [size]);
        gradCheck({
          inputs: [randTensor(rng, dims), w],
          f32: ([x, v]) => mul(flatten(reshape(x, [size]), 0), v),
          f64: ([x, v]) => R.binary(R.a64([size], x.data), v, (p, q) => p * q),
          seed,
        });
      }),
      RUNS,
    );
  });

  it("permute and transpose", () => {
    fc.assert(
      fc.property(dimsArb, fc.nat(), fc.boolean(), (dims, seed, useTranspose) => {
        const perm = new Rng(seed).permutation(dims.length);
        if (useTranspose && dims.length >= 2) {
          const swapped = dims.map((_, i) => i);
          [swapped[0], swapped[dims.length - 1]] = [swapped[dims.length - 1], swapped[0]];
          gradCheck({ inputs: [randTensor(new Rng(seed), dims)], f32: ([x]) => transpose(x, 0, -1), f64: ([x]) => R.permute(x, swapped), seed });
        } else {
          gradCheck({ inputs: [randTensor(new Rng(seed), dims)], f32: ([x]) => permute(x, perm), f64: ([x]) => R.permute(x, perm), seed });
        }
      }),
      RUNS,
    );
  });

  it("slice with starts (some negative), ends and steps", () => {
    fc.assert(
      fc.property(dimsArb, fc.nat(), (dims, seed) => {
        const rng = new Rng(seed);
        const ranges = dims.map((d) => {
          const start = rng.int(0, d);
          const end = rng.int(start + 1, d + 1);
          const step = rng.int(1, 3);
          return { start: rng.uniform() < 0.3 ? start - d : start, end, step };
        });
        const starts = ranges.map((r, i) => (r.start < 0 ? r.start + dims[i] : r.start));
        const counts = ranges.map((r, i) => Math.ceil((r.end - starts[i]) / r.step));
        gradCheck({
          inputs: [randTensor(rng, dims)],
          f32: ([x]) => slice(x, ranges),
          f64: ([x]) => R.slice(x, starts, ranges.map((r) => r.step), counts),
          seed,
        });
      }),
      RUNS,
    );
  });

  it("concat of 1..3 tensors along any axis", () => {
    fc.assert(
      fc.property(dimsArb, fc.nat(), fc.integer({ min: 1, max: 3 }), (dims, seed, parts) => {
        const rng = new Rng(seed);
        const axis = rng.int(0, dims.length);
        const inputs = Array.from({ length: parts }, () => randTensor(rng, dims.map((d, i) => (i === axis ? rng.int(1, 4) : d))));
        gradCheck({ inputs, f32: (xs) => concat(xs, axis), f64: (xs) => R.concat(xs, axis), seed });
      }),
      RUNS,
    );
  });

  it("pad with constant values", () => {
    fc.assert(
      fc.property(dimsArb, fc.nat(), (dims, seed) => {
        const rng = new Rng(seed);
        const pads = dims.map(() => [rng.int(0, 3), rng.int(0, 3)] as [number, number]);
        gradCheck({ inputs: [randTensor(rng, dims)], f32: ([x]) => pad(x, pads, 0.5), f64: ([x]) => R.pad(x, pads, Math.fround(0.5)), seed });
      }),
      RUNS,
    );
  });

  it("expand (broadcast to a larger shape)", () => {
    fc.assert(
      fc.property(dimsArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.nat(), (dims, ones, seed) => {
        const small = dims.map((d, i) => (ones[i] ? 1 : d)).slice(seed % dims.length);
        gradCheck({ inputs: [randTensor(new Rng(seed), small)], f32: ([x]) => expand(x, dims), f64: ([x]) => R.expand(x, dims), seed });
      }),
      RUNS,
    );
  });
});
