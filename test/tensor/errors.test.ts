// Shape errors are ShapeErrors whose message names the op and the shapes.
import { describe, expect, it } from "vitest";
import { ShapeError, Tensor, add, concat, conv2d, layerNorm, linear, matmul, maxPool2d, permute, setBackend, softmax } from "../../src/tensor/index.js";

const t = (...shape: number[]) => new Tensor(shape);

describe("shape errors", () => {
  it.each([
    ["add", () => add(t(2, 3), t(4)), /add: cannot broadcast \[2, 3\] with \[4\]/],
    ["matmul", () => matmul(t(2, 3), t(4, 5)), /matmul: inner dims differ: a \[2, 3\] x b \[4, 5\] \(3 vs 4\)/],
    ["matmul rank", () => matmul(t(3), t(3, 2)), /matmul: inputs must have rank >= 2/],
    ["linear", () => linear(t(2, 3), t(4, 5)), /linear: x \[2, 3\] does not match weight \[4, 5\]/],
    ["conv2d groups", () => conv2d(t(1, 4, 5, 5), t(6, 3, 3, 3), null, { groups: 2 }), /conv2d: .*groups=2/],
    ["conv2d rank", () => conv2d(t(4, 5, 5), t(6, 4, 3, 3)), /conv2d: x must be \[N, C, H, W\], got \[4, 5, 5\]/],
    ["conv2d too big", () => conv2d(t(1, 1, 2, 2), t(1, 1, 3, 3)), /conv2d: kernel 3x3 larger than padded input 2x2/],
    ["layerNorm", () => layerNorm(t(2, 4), t(3), null), /layerNorm: weight \[3\] must be \[4\]/],
    ["maxPool2d", () => maxPool2d(t(1, 1, 4), 2), /maxPool2d: x must be \[N, C, H, W\]/],
    ["permute", () => permute(t(2, 3), [0, 0]), /permute: perm \[0, 0\] is not a permutation/],
    ["concat", () => concat([t(2, 3), t(3, 3)], 1), /concat: shapes \[2, 3\], \[3, 3\] differ outside axis 1/],
    ["softmax axis", () => softmax(t(2, 3), 2), /softmax: axis 2 out of range for rank 2/],
    ["reshape", () => t(2, 3).reshape([4, 2]), /reshape: cannot reshape \[2, 3\] \(6\) to \[4, 2\]/],
    ["Tensor data", () => new Tensor([2, 2], new Float32Array(3)), /Tensor: shape \[2, 2\] needs 4 values, got 3/],
  ] as const)("%s", (_name, fn, message) => {
    expect(fn).toThrow(ShapeError);
    expect(fn).toThrow(message);
  });

  it("unknown backend names the choices", () => {
    expect(() => setBackend("tpu")).toThrow(/unknown backend 'tpu' \(available: auto, /);
  });
});
