// The gpu.js backend in Node (gpu.js's cpu mode: the same kernel bodies the GL backends compile, run as
// JavaScript; headless-gl is not installed here) against the naive reference backend (style.md C5, C8a, C9):
// every GPU kernel without its CPU fallback, random matmul / conv configurations, the splitting that keeps
// float32 indices exact (forced on small tensors by lowered limits), and the backend registry.
// Tolerance: the cpu mode sums in float64 like the reference, so 1e-5 absolute / relative covers the
// float32 rounding of inputs and outputs (GELU adds the 1.5e-7 error of its erf approximation).
// The WebGL2 run of the same kernels is test/browser/gpujs.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Backend, type KernelName, type KernelSpecs, type KernelTable, tableBackend } from "../../src/tensor/backend.js";
import { BACKENDS, autoBackend, backendNames, cpuBackend, getBackend, gpujs, gpujsBackend, setBackend, simdBackend } from "../../src/tensor/backends.js";
import { conv2dNaive } from "../../src/tensor/kernels/cpu/conv.js";
import { binary, unary } from "../../src/tensor/kernels/cpu/elementwise.js";
import { matmulNaive } from "../../src/tensor/kernels/cpu/matmul.js";
import { concat, pad, permute, slice } from "../../src/tensor/kernels/cpu/movement.js";
import { batchMomentsNaive } from "../../src/tensor/kernels/cpu/moments.js";
import { batchNorm, layerNorm } from "../../src/tensor/kernels/cpu/norm.js";
import { adaptiveAvgPool2d, pool2d } from "../../src/tensor/kernels/cpu/pool.js";
import { argmax, reduceNaive } from "../../src/tensor/kernels/cpu/reduce.js";
import { softmax } from "../../src/tensor/kernels/cpu/softmax.js";
import { createGpujsBackend } from "../../src/tensor/kernels/gpujs/index.js";
import { foldOperand } from "../../src/tensor/kernels/gpujs/elementwise.js";
import { planGemm } from "../../src/tensor/kernels/gpujs/matmul.js";
import { type BinaryOp, Rng, Tensor, type UnaryOp, broadcastShapes, referenceBackend } from "../../src/tensor/index.js";
import { type Tolerance, expectClose } from "../helpers/close.js";
import { buildConvCase, convCaseArb, randomData } from "../helpers/conv_cases.js";

const TOL: Tolerance = { atol: 1e-5, rtol: 1e-5 };
const GPU_KERNELS: readonly KernelName[] = [
  "matmul", "conv2d", "unary", "binary", "softmax", "layerNorm", "batchNorm",
  "batchMoments", "reduce", "pool2d", "adaptiveAvgPool2d", "permute", "slice", "pad", "concat",
];

/** The reference kernels except the ones gpujs runs itself: calling one of those on it throws. */
function strictFallback(calls: KernelName[]): Backend {
  const all: KernelTable = {
    unary, binary, matmul: matmulNaive, conv2d: conv2dNaive, pool2d, adaptiveAvgPool2d, layerNorm, batchNorm,
    batchMoments: batchMomentsNaive, softmax, reduce: reduceNaive, argmax, permute, slice, concat, pad,
  };
  const table: Partial<KernelTable> = { ...all };
  for (const k of GPU_KERNELS) delete table[k];
  const inner = tableBackend("strict", "reference minus the gpujs kernels", table);
  return { ...inner, run: (k, i, a) => (calls.push(k), inner.run(k, i, a)) };
}

/** A fallback that records which kernels reached it and runs them on the reference. */
function countingFallback(calls: KernelName[]): Backend {
  return { ...referenceBackend, run: (k, i, a) => (calls.push(k), referenceBackend.run(k, i, a)) };
}

const rand = (shape: number[], rng: Rng): Tensor => new Tensor(shape, randomData(shape.reduce((p, d) => p * d, 1), rng));

function sameAsReference<K extends KernelName>(b: Backend, k: K, inputs: KernelSpecs[K]["inputs"], attrs: KernelSpecs[K]["attrs"], what: string, tol = TOL): void {
  const got = b.run(k, inputs, attrs);
  const want = referenceBackend.run(k, inputs, attrs);
  expect([...got.shape], `${what}: shape`).toEqual([...want.shape]);
  expectClose(got.data, want.data, tol, what);
}

function mmAttrs(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): KernelSpecs["matmul"]["attrs"] {
  const M = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2];
  const N = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  return { transposeA, transposeB, outShape: [...broadcastShapes("t", a.shape.slice(0, -2), b.shape.slice(0, -2)), M, N] };
}

describe("gpujs backend in Node", () => {
  it("starts gpu.js in its cpu mode (headless-gl where it loads), not counted as a hardware GPU", () => {
    const b = gpujsBackend();
    const rt = b.runtime();
    expect(["cpu", "headlessgl"]).toContain(rt.mode);
    if (rt.mode === "cpu") expect(rt.hardware).toBe(false);
    expect(b.description).toContain(`gpu.js ${rt.mode}`);
    b.dispose();
  });

  it("runs every GPU kernel without its CPU fallback", () => {
    const calls: KernelName[] = [];
    const b = createGpujsBackend("cpu", strictFallback(calls));
    const rng = new Rng(3);
    // matmul: batched with broadcast batch dims, each transpose combination.
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = rand(ta ? [2, 1, 7, 5] : [2, 1, 5, 7], rng);
      const bb = rand(tb ? [3, 6, 7] : [3, 7, 6], rng);
      sameAsReference(b, "matmul", { a, b: bb }, mmAttrs(a, bb, ta, tb), `matmul ta=${ta} tb=${tb}`);
    }
    // conv2d: groups, stride, padding, dilation, with and without bias.
    const x = rand([2, 6, 9, 8], rng);
    const w = rand([4, 3, 3, 2], rng);
    for (const bias of [null, rand([4], rng)]) {
      const attrs = { stride: [2, 1] as const, padding: [1, 2] as const, dilation: [1, 2] as const, groups: 2, outShape: [2, 4, 5, 10] };
      sameAsReference(b, "conv2d", { x, w, bias }, attrs, `conv2d bias=${bias !== null}`);
    }
    // unary: every op, on inputs inside each op's domain.
    const ops: UnaryOp[] = ["relu", "gelu", "exp", "log", "sqrt", "rsqrt", "abs", "neg", "square", "tanh", "sigmoid"];
    const signed = new Tensor([4, 25], Float32Array.from({ length: 100 }, (_, i) => (i - 50) / 6));
    const positive = new Tensor([4, 25], Float32Array.from({ length: 100 }, (_, i) => 0.01 + i / 7));
    for (const op of ops) {
      const xin = ["log", "sqrt", "rsqrt"].includes(op) ? positive : signed;
      sameAsReference(b, "unary", { x: xin }, { op }, `unary ${op}`);
    }
    // binary: same shape, trailing bias, per-channel NCHW, scalar, leading-dim broadcast, both sides broadcast.
    const full = rand([2, 3, 4, 5], rng);
    const bops: BinaryOp[] = ["add", "sub", "mul", "div", "max", "min"];
    const others = [rand([2, 3, 4, 5], rng), rand([5], rng), rand([1, 3, 1, 1], rng), rand([], rng), rand([3, 4, 5], rng), rand([1, 3, 4, 1], rng)];
    for (const op of bops) {
      for (const o of others) {
        sameAsReference(b, "binary", { a: full, b: o }, { op, outShape: [2, 3, 4, 5] }, `binary ${op} [2,3,4,5] x [${o.shape}]`);
        sameAsReference(b, "binary", { a: o, b: full }, { op, outShape: [2, 3, 4, 5] }, `binary ${op} [${o.shape}] x [2,3,4,5]`);
      }
    }
    // softmax / logSoftmax on the first, a middle and the last axis.
    const s = rand([3, 4, 5], rng);
    for (const axis of [0, 1, 2]) for (const log of [false, true]) sameAsReference(b, "softmax", { x: s }, { axis, log }, `softmax axis ${axis} log=${log}`);
    // layerNorm with and without affine; batchNorm with and without affine, 4-D and 2-D.
    const ln = rand([6, 10], rng);
    sameAsReference(b, "layerNorm", { x: ln, weight: rand([10], rng), bias: rand([10], rng) }, { eps: 1e-5 }, "layerNorm affine");
    sameAsReference(b, "layerNorm", { x: ln, weight: null, bias: null }, { eps: 1e-6 }, "layerNorm plain");
    const stats = { mean: rand([3], rng), variance: new Tensor([3], Float32Array.of(0.5, 1, 2)) };
    sameAsReference(b, "batchNorm", { x: full, ...stats, weight: rand([3], rng), bias: rand([3], rng) }, { eps: 1e-5 }, "batchNorm 4-D");
    sameAsReference(b, "batchNorm", { x: rand([4, 3], rng), ...stats, weight: null, bias: null }, { eps: 1e-5 }, "batchNorm 2-D");
    // batch moments (4-D and 2-D); reductions over a contiguous kept block (every op, var biased and not).
    sameAsReference(b, "batchMoments", { x: full }, {}, "batchMoments 4-D");
    sameAsReference(b, "batchMoments", { x: rand([5, 3], rng) }, {}, "batchMoments 2-D");
    for (const op of ["sum", "mean", "max", "min", "var"] as const) {
      for (const axes of [[2, 3], [0], [0, 2, 3], [3], [0, 1, 2, 3]]) {
        for (const unbiased of op === "var" ? [false, true] : [false]) {
          sameAsReference(b, "reduce", { x: full }, { op, axes, unbiased }, `reduce ${op} axes [${axes}] unbiased=${unbiased}`);
        }
      }
    }
    // pooling: max and avg with padding (countIncludePad both ways), stride; adaptive average to 1x1 and 3x2.
    const px = rand([2, 3, 7, 6], rng);
    for (const mode of ["max", "avg"] as const) {
      for (const countIncludePad of [true, false]) {
        const attrs = { mode, kernel: [3, 2] as const, stride: [2, 2] as const, padding: [1, 1] as const, countIncludePad, outShape: [2, 3, 4, 4] };
        sameAsReference(b, "pool2d", { x: px }, attrs, `pool2d ${mode} countIncludePad=${countIncludePad}`);
      }
    }
    for (const [oh, ow] of [[1, 1], [3, 2], [7, 6], [4, 5]]) sameAsReference(b, "adaptiveAvgPool2d", { x: px }, { outShape: [2, 3, oh, ow] }, `adaptiveAvgPool2d ${oh}x${ow}`);
    // movement: a ViT head split permute, a strided slice with a negative step, pad, concat of three.
    sameAsReference(b, "permute", { x: rand([2, 5, 3, 2, 4], rng) }, { perm: [2, 0, 3, 1, 4] }, "permute rank 5");
    sameAsReference(b, "permute", { x: s }, { perm: [2, 1, 0] }, "permute reverse");
    sameAsReference(b, "slice", { x: full }, { starts: [1, 0, 3, 1], steps: [1, 2, -1, 2], outShape: [1, 2, 4, 2] }, "slice with steps 2 and -1");
    sameAsReference(b, "pad", { x: px }, { pads: [[0, 0], [1, 0], [2, 1], [0, 3]], value: -1.5 }, "pad");
    const [c1, c2, c3] = [rand([2, 1, 4], rng), rand([2, 3, 4], rng), rand([2, 2, 4], rng)];
    sameAsReference(b, "concat", { xs: [c1, c2, c3] }, { axis: 1 }, "concat of three along axis 1");
    sameAsReference(b, "concat", { xs: [c2, c2] }, { axis: 2 }, "concat along the last axis");
    expect(calls, "kernels that reached the fallback").toEqual([]);
    b.dispose();
  });

  it("matches the reference on random batched, broadcast, transposed matmuls", () => {
    const b = createGpujsBackend("cpu", strictFallback([]));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom([[], []], [[3], [3]], [[2, 1], [1, 3]], [[4], []], [[], [2, 2]]),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (M, N, K, [ba, bb], ta, tb, seed) => {
          const rng = new Rng(seed);
          const a = rand([...ba, ...(ta ? [K, M] : [M, K])], rng);
          const bm = rand([...bb, ...(tb ? [N, K] : [K, N])], rng);
          sameAsReference(b, "matmul", { a, b: bm }, mmAttrs(a, bm, ta, tb), `matmul ${M}x${N}x${K} [${ba}]x[${bb}] ta=${ta} tb=${tb}`);
        },
      ),
      { numRuns: 60, seed: 21 },
    );
    b.dispose();
  });

  it("matches the reference on random conv configurations", () => {
    const b = createGpujsBackend("cpu", strictFallback([]));
    fc.assert(
      fc.property(convCaseArb(2, 4, 4, 9), (p) => {
        const c = buildConvCase(p);
        fc.pre(c !== null);
        if (!c) return;
        sameAsReference(b, "conv2d", c.inputs, c.attrs, "conv2d");
      }),
      { numRuns: 60, seed: 12 },
    );
    b.dispose();
  });

  it("splits work to keep float32 indices exact, and falls back where no split can", () => {
    const calls: KernelName[] = [];
    // Limits far below 2^24 / 2^23 so small tensors exercise every split path.
    const b = createGpujsBackend("cpu", countingFallback(calls), { elements: 200, dividend: 24 });
    const rng = new Rng(8);
    // Whole batches per launch (one [M, N] block = 21 < 200: launches of 9, 9 and 2 of the 20 batches).
    const qa = rand([4, 5, 3, 2], rng);
    const qb = rand([5, 7, 2], rng);
    sameAsReference(b, "matmul", { a: qa, b: qb }, mmAttrs(qa, qb, false, true), "batched chunks");
    // One [M, N] block too large: row ranges, with A whole (offsets) and with A cut into row blocks.
    const ra = rand([30, 6], rng);
    const rb = rand([6, 9], rng);
    sameAsReference(b, "matmul", { a: ra, b: rb }, mmAttrs(ra, rb, false, false), "row ranges");
    const big = rand([50, 6], rng);
    sameAsReference(b, "matmul", { a: big, b: rb }, mmAttrs(big, rb, false, false), "A cut into row blocks");
    expect(calls).toEqual([]);
    // A too large and transposed: no contiguous row blocks, so the CPU runs it.
    sameAsReference(b, "matmul", { a: rand([6, 50], rng), b: rb }, { transposeA: true, transposeB: false, outShape: [50, 9] }, "transposed A fallback");
    expect(calls).toEqual(["matmul"]);
    calls.length = 0;
    // conv2d in image chunks (per image: 2*4*4 = 32 in, 3*4*4 = 48 out; n*K < 24 -> 4 images per launch).
    const x = rand([9, 2, 4, 4], rng);
    const w = rand([3, 2, 3, 3], rng);
    const attrs = { stride: [1, 1] as const, padding: [1, 1] as const, dilation: [1, 1] as const, groups: 1, outShape: [9, 3, 4, 4] };
    sameAsReference(b, "conv2d", { x, w, bias: rand([3], rng) }, attrs, "conv image chunks");
    // unary in contiguous chunks; softmax rows >= dividend and a binary output >= elements go to the CPU.
    sameAsReference(b, "unary", { x: rand([7, 70], rng) }, { op: "tanh" }, "unary chunks");
    expect(calls).toEqual([]);
    sameAsReference(b, "softmax", { x: rand([30, 3], rng) }, { axis: 1, log: false }, "softmax fallback");
    sameAsReference(b, "binary", { a: rand([30, 7], rng), b: rand([7], rng) }, { op: "add", outShape: [30, 7] }, "binary fallback");
    expect(calls).toEqual(["softmax", "binary"]);
    b.dispose();
  });

  it("plans GEMM launches that cover the output once, each under the element limit", () => {
    const lim = { elements: 100, dividend: 50 };
    const a = new Float32Array(3 * 40 * 7);
    const offA = [0, 280, 560];
    const launches = planGemm(lim, a, false, 40, 9, 7, 7, offA, [0, 0, 0]);
    if (!launches) return expect.fail("no plan");
    const covered = new Int32Array(3 * 40 * 9);
    for (const L of launches) {
      expect(L.rows * 9 * L.offA.length).toBeLessThan(lim.elements);
      for (let i = 0; i < L.rows * 9 * L.offA.length; i++) covered[L.outOffset + i]++;
    }
    expect(Array.from(covered).every((c) => c === 1)).toBe(true);
  });

  it("folds broadcast operands to [outer, mid, inner]", () => {
    expect(foldOperand([2, 3, 4], [2, 3, 4])).toEqual({ mode: 0, outer: 1, mid: 1, inner: 24 });
    expect(foldOperand([], [2, 3, 4])).toEqual({ mode: 2, outer: 1, mid: 1, inner: 24 });
    expect(foldOperand([1, 3, 1, 1], [2, 3, 4, 5])).toEqual({ mode: 1, outer: 2, mid: 3, inner: 20 });
    expect(foldOperand([4, 5], [2, 3, 4, 5])).toEqual({ mode: 1, outer: 6, mid: 20, inner: 1 });
    expect(foldOperand([2, 1, 5], [2, 3, 5])).toBeNull();
  });
});

describe("gpujs in the backend registry", () => {
  it("is listed, selectable by name, and not what auto picks without a hardware GPU", () => {
    expect(backendNames()).toContain("gpujs");
    expect(BACKENDS[BACKENDS.length - 1]).toBe(gpujs);
    const prev = getBackend();
    try {
      expect(setBackend("gpujs")).toBe(gpujs);
      expect(getBackend().name).toBe("gpujs");
      expect(autoBackend()).toBe(simdBackend ?? cpuBackend);
      expect(setBackend("auto").name).not.toBe("gpujs");
    } finally {
      setBackend(prev.name);
    }
  });
});
