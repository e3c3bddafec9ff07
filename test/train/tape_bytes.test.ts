// tapeBytes on small graphs whose retained activations are counted by hand.
import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/tensor/tensor.js";
import { constant, noGrad, param } from "../../src/train/autograd.js";
import { add, mul, relu } from "../../src/train/grad_elementwise.js";
import { linear } from "../../src/train/grad_matmul.js";
import { reshape } from "../../src/train/grad_movement.js";
import { tapeBytes } from "../../src/train/tape_bytes.js";

describe("tapeBytes", () => {
  it("counts recorded values and computed constant parents once each, never leaves or reshape views", () => {
    const x = constant(Tensor.from([2, 3], [1, -2, 3, -4, 5, -6])); // leaf: not counted
    const w = param(Tensor.from([3], [1, 2, 3])); // leaf: not counted
    const c = relu(x); // computed from constants only: not recorded, but a parent of `y` below: 6 floats
    const y = mul(c, w); // recorded: 6 floats
    const r = relu(y); // recorded: 6 floats
    const v = reshape(r, [6]); // a view of r's buffer: 0
    const W = constant(Tensor.from([2, 6], new Array(12).fill(0.5))); // leaf
    const out = linear(v, W); // recorded: 2 floats
    expect(c.requiresGrad).toBe(false);
    expect(tapeBytes(out)).toBe((6 + 6 + 6 + 2) * 4);
    // A value shared by two consumers counts once.
    const twice = add(r, r); // + 6 floats
    expect(tapeBytes(twice)).toBe((6 + 6 + 6 + 6) * 4);
  });

  it("counts only the root of a result recorded without a graph, nothing for a leaf", () => {
    const w = param(Tensor.from([2], [1, 2]));
    const y = noGrad(() => mul(w, 3));
    expect(tapeBytes(y)).toBe(8); // the root itself: its value is held by whoever keeps it
    expect(tapeBytes(constant(Tensor.zeros([4])))).toBe(0);
  });
});
