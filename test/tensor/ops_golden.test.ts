// Every op against PyTorch 1.13 outputs (test/golden/ops.json, written by tools/reference/make_golden.py),
// on every backend.
import { describe, expect, it } from "vitest";
import {
  BACKENDS,
  Tensor,
  adaptiveAvgPool2d,
  add,
  argmax,
  avgPool2d,
  batchNorm,
  batchStats,
  concat,
  conv2d,
  div,
  exp,
  gelu,
  globalAvgPool2d,
  layerNorm,
  linear,
  log,
  logSoftmax,
  matmul,
  max,
  maxPool2d,
  mean,
  mul,
  pad,
  permute,
  relu,
  sigmoid,
  slice,
  softmax,
  sqrt,
  std,
  sub,
  sum,
  tanh,
  variance,
  withBackend,
  type Pair,
} from "../../src/tensor/index.js";
import { expectClose, type Tolerance } from "../helpers/close.js";
import { type GoldenArray, type OpCase, type OpsGolden, goldenF32, isGoldenArray, loadGolden } from "../helpers/golden.js";

const golden = loadGolden<OpsGolden>("ops");
const T = (g: GoldenArray): Tensor => new Tensor(g.shape, goldenF32(g));

// float32 results computed in a different order than PyTorch: a few float32 ulps, more for long sums.
const TOL: Tolerance = { atol: 1e-5, rtol: 1e-5 };
const TOL_ACC: Tolerance = { atol: 2e-5, rtol: 1e-4 }; // conv / matmul / norms (accumulations)

type Out = Tensor | Int32Array | Record<string, Tensor | Int32Array>;

function num(v: unknown): number {
  if (typeof v !== "number") throw new Error(`expected a number attr, got ${JSON.stringify(v)}`);
  return v;
}
function pr(v: unknown): Pair {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`expected a pair attr, got ${JSON.stringify(v)}`);
  return [num(v[0]), num(v[1])];
}
function nums(v: unknown): number[] {
  if (!Array.isArray(v)) throw new Error(`expected a number[] attr, got ${JSON.stringify(v)}`);
  return v.map(num);
}

function run(c: OpCase): Out {
  const i = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, T(v)]));
  const a = c.attrs;
  const axes = a.axes === undefined ? undefined : nums(a.axes);
  const keepDims = Boolean(a.keepDims);
  switch (c.op) {
    case "add":
      return add(i.a, i.b);
    case "sub":
      return sub(i.a, i.b);
    case "mul":
      return mul(i.a, i.b);
    case "div":
      return div(i.a, i.b);
    case "relu":
      return relu(i.x);
    case "gelu":
      return gelu(i.x);
    case "exp":
      return exp(i.x);
    case "log":
      return log(i.x);
    case "sqrt":
      return sqrt(i.x);
    case "tanh":
      return tanh(i.x);
    case "sigmoid":
      return sigmoid(i.x);
    case "matmul":
      return matmul(i.a, i.b, { transposeA: Boolean(a.transposeA), transposeB: Boolean(a.transposeB) });
    case "linear":
      return linear(i.x, i.weight, i.bias ?? null);
    case "conv2d":
      return conv2d(i.x, i.weight, i.bias ?? null, { stride: pr(a.stride), padding: pr(a.padding), dilation: pr(a.dilation), groups: num(a.groups) });
    case "max_pool2d":
      return maxPool2d(i.x, pr(a.kernel), { stride: pr(a.stride), padding: pr(a.padding), ceilMode: Boolean(a.ceilMode) });
    case "avg_pool2d":
      return avgPool2d(i.x, pr(a.kernel), { stride: pr(a.stride), padding: pr(a.padding), ceilMode: Boolean(a.ceilMode), countIncludePad: Boolean(a.countIncludePad) });
    case "adaptive_avg_pool2d":
      return adaptiveAvgPool2d(i.x, pr(a.outputSize));
    case "global_avg_pool2d":
      return globalAvgPool2d(i.x);
    case "layer_norm":
      return layerNorm(i.x, i.weight ?? null, i.bias ?? null, num(a.eps));
    case "batch_norm": {
      const p = { weight: i.weight, bias: i.bias, runningMean: i.runningMean ?? null, runningVar: i.runningVar ?? null, eps: num(a.eps) };
      if (!a.training) return batchNorm(i.x, p, false);
      const stats = batchStats(i.x);
      return { y: batchNorm(i.x, p, true), mean: stats.mean, biasedVar: stats.variance, unbiasedVar: variance(i.x, [0, 2, 3]) };
    }
    case "softmax":
      return softmax(i.x, num(a.axis));
    case "log_softmax":
      return logSoftmax(i.x, num(a.axis));
    case "sum":
      return sum(i.x, axes, { keepDims });
    case "mean":
      return mean(i.x, axes, { keepDims });
    case "var":
      return variance(i.x, axes, { keepDims, unbiased: Boolean(a.unbiased) });
    case "std":
      return std(i.x, axes, { keepDims, unbiased: Boolean(a.unbiased) });
    case "argmax":
      return argmax(i.x, num(a.axis));
    case "max": {
      const values = max(i.x, num(a.axis), { keepDims });
      return { values, indices: argmax(i.x, num(a.axis)) };
    }
    case "permute":
      return permute(i.x, nums(a.perm));
    case "slice": {
      const b = nums(a.begin);
      const e = nums(a.end);
      const s = nums(a.step);
      return slice(i.x, b.map((st, d) => ({ start: st, end: e[d], step: s[d] })));
    }
    case "cat":
      return concat(Object.keys(c.inputs).sort().map((k) => i[k]), num(a.axis));
    case "pad":
      return pad(i.x, (a.pads as number[][]).map(pr), num(a.value));
    default:
      throw new Error(`no mapping for golden op '${c.op}'`);
  }
}

function compare(name: string, actual: Tensor | Int32Array, expected: GoldenArray, tol: Tolerance): void {
  if (actual instanceof Int32Array) {
    expect(Array.from(actual), `${name}: indices`).toEqual(expected.data);
    return;
  }
  expect([...actual.shape], `${name}: shape`).toEqual(expected.shape);
  expectClose(actual.data, goldenF32(expected), tol, name);
}

const ACC_OPS = new Set(["conv2d", "matmul", "linear", "layer_norm", "batch_norm", "var", "std", "log_softmax", "softmax", "gelu"]);

describe.each(BACKENDS.map((b) => [b.name, b] as const))("ops vs PyTorch on backend %s", (_name, backend) => {
  it.each(golden.cases.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const out = withBackend(backend, () => run(c));
    const tol = ACC_OPS.has(c.op) ? TOL_ACC : TOL;
    if (isGoldenArray(c.output)) {
      if (out instanceof Tensor || out instanceof Int32Array) compare(c.name, out, c.output, tol);
      else expect.fail(`${c.name}: expected one output`);
    } else {
      if (out instanceof Tensor || out instanceof Int32Array) return expect.fail(`${c.name}: expected several outputs`);
      for (const [k, g] of Object.entries(c.output)) {
        expect(out[k], `${c.name}.${k} produced`).toBeDefined();
        compare(`${c.name}.${k}`, out[k], g, tol);
      }
    }
  });
});
