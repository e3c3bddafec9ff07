// The tape itself: gradient accumulation over shared uses, leaves accumulating across backward calls, constants
// and noGrad building no graph, seeds, errors, and a deep chain (no recursion limit).
import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/tensor/tensor.js";
import { backward, constant, noGrad, param } from "../../src/train/autograd.js";
import { add, mul, relu } from "../../src/train/grad_elementwise.js";
import { sum } from "../../src/train/grad_reduce.js";
import { expectClose } from "../helpers/close.js";

const EXACT = { atol: 0, rtol: 0 };

describe("autograd tape", () => {
  it("sums the gradients of every use of a Var (d(x*x + x)/dx = 2x + 1)", () => {
    const x = param(Tensor.from([3], [1, -2, 0.5]));
    backward(sum(add(mul(x, x), x)));
    expectClose(x.grad!.data, [3, -3, 2], EXACT, "grad");
  });

  it("adds to leaf gradients across backward calls until cleared", () => {
    const x = param(Tensor.from([2], [1, 2]));
    backward(sum(mul(x, 3)));
    backward(sum(mul(x, 3)));
    expectClose(x.grad!.data, [6, 6], EXACT, "accumulated");
    x.grad = null;
    backward(sum(x));
    expectClose(x.grad!.data, [1, 1], EXACT, "after clearing");
  });

  it("constants and noGrad build no graph", () => {
    const c = constant(Tensor.from([2], [1, -1]));
    const y = relu(mul(c, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.parents).toHaveLength(0);
    const p = param(Tensor.from([2], [1, -1]));
    const z = noGrad(() => relu(mul(p, 2)));
    expect(z.requiresGrad).toBe(false);
    expectClose(z.value.data, [2, 0], EXACT, "noGrad value");
    expect(() => backward(sum(z))).toThrow(/does not depend on any parameter/);
  });

  it("takes a seed for non-scalar outputs and checks its shape", () => {
    const x = param(Tensor.from([2], [1, 2]));
    expect(() => backward(mul(x, 2))).toThrow(/one value/);
    expect(() => backward(mul(x, 2), Tensor.zeros([3]))).toThrow(/seed/);
    backward(mul(x, 2), Tensor.from([2], [1, 10]));
    expectClose(x.grad!.data, [2, 20], EXACT, "seeded");
  });

  it("handles a 5000-op chain without recursion", () => {
    const x = param(Tensor.from([1], [1]));
    let y = x;
    for (let i = 0; i < 5000; i++) y = add(y, 1);
    backward(sum(y));
    expectClose(x.grad!.data, [1], EXACT, "chain");
  });
});
