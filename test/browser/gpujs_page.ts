// Page side of test/browser/gpujs.test.ts (and tools/measure/gpujs_browser.ts): bundled with esbuild for the
// browser together with gpu.js's browser build, it runs the gpujs backend's kernels on WebGL and the naive
// reference kernels in the same page, and reports max |diff| per op. Also times gpujs against simd.
import * as gpujsLib from "gpu.js";
import { ResNet, cifarResNetConfig } from "../../src/models/resnet.js";
import { VisionTransformer } from "../../src/models/vit.js";
import { autoBackend, gpujsBackend, referenceBackend, simdBackend } from "../../src/tensor/backends.js";
import resnetGolden from "../golden/cifar_resnet_tiny.json";
import vitGolden from "../golden/vit_tiny.json";
import { detParams } from "../helpers/det_params.js";
import { detInput } from "../helpers/detweights.js";
import type { ModelGoldenBase } from "../helpers/golden.js";
import {
  type Backend,
  Rng,
  Tensor,
  add,
  adaptiveAvgPool2d,
  avgPool2d,
  batchNorm,
  batchStats,
  concat,
  conv2d,
  exp,
  gelu,
  layerNorm,
  linear,
  log,
  logSoftmax,
  matmul,
  max,
  maxPool2d,
  maximum,
  mean,
  mul,
  pad,
  permute,
  provideGpujs,
  relu,
  sigmoid,
  slice,
  softmax,
  sqrt,
  sub,
  tanh,
  variance,
  withBackend,
} from "../../src/tensor/index.js";

export interface OpDiff {
  op: string;
  /** Products summed per output (0 for ops without a reduction). */
  K: number;
  maxAbsDiff: number;
  maxAbsRef: number;
}

export interface PageReport {
  mode: string;
  renderer: string | null;
  hardware: boolean;
  autoBackend: string;
  diffs: OpDiff[];
}

/** What crossed between host and device during one computation on gpujs (runtime.transfers). */
export interface TransferCount {
  launches: number;
  uploads: number;
  downloads: number;
}

/** A chain of GPU ops run with the output read once at the end. */
export interface ChainReport {
  ops: number;
  /** Transfers before the final read (the chain itself), and the read's own. */
  beforeRead: TransferCount;
  read: TransferCount;
  maxAbsDiff: number;
  maxAbsRef: number;
  /** Output textures alive before and after dispose() of the tensors the page kept (h and p). */
  liveBefore: number;
  liveAfterDispose: number;
}

/** A whole model forward on gpujs (WebGL) against PyTorch's logits. */
export interface ModelReport {
  model: string;
  maxAbsDiff: number;
  maxAbsRef: number;
  transfers: TransferCount;
}

export interface TimingRow {
  what: string;
  gflop: number;
  gpujsMs: number;
  simdMs: number | null;
  compileMs: number;
}

function rand(shape: number[], rng: Rng, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.uniformIn(lo, hi);
  return new Tensor(shape, d);
}

/** `fn` runs twice (gpujs, reference): it must not draw random numbers itself. */
function diff(op: string, K: number, gpu: Backend, fn: () => Tensor): OpDiff {
  const got = withBackend(gpu, fn);
  const want = withBackend(referenceBackend, fn);
  if (got.size !== want.size) throw new Error(`${op}: ${got.size} values, expected ${want.size}`);
  return { op, K, ...maxDiff(got.data, want.data) };
}

const gpu = gpujsBackend("gpu");

function check(): PageReport {
  provideGpujs(gpujsLib);
  const rt = gpu.runtime();
  const rng = new Rng(17);
  const diffs: OpDiff[] = [];
  const a = rand([64, 96], rng);
  const b = rand([96, 80], rng);
  diffs.push(diff("matmul 64x80x96", 96, gpu, () => matmul(a, b)));
  const x = rand([50, 192], rng);
  const w = rand([120, 192], rng);
  const bias = rand([120], rng);
  diffs.push(diff("linear 50x120x192 (transposeB + bias)", 192, gpu, () => linear(x, w, bias)));
  const q = rand([2, 3, 17, 16], rng);
  const k = rand([2, 3, 17, 16], rng);
  diffs.push(diff("batched q k^T [2,3,17,16]", 16, gpu, () => matmul(q, k, { transposeB: true })));
  diffs.push(diff("batched attention softmax(q k^T / 4) v", 17, gpu, () => matmul(softmax(mul(matmul(q, k, { transposeB: true }), 0.25), -1), k)));
  const cx = rand([2, 16, 16, 16], rng);
  const cw = rand([16, 16, 3, 3], rng);
  const cb = rand([16], rng);
  diffs.push(diff("conv 3x3 pad 1 [2,16,16,16] -> 16", 144, gpu, () => conv2d(cx, cw, cb, { padding: 1 })));
  const w1 = rand([32, 16, 1, 1], rng);
  diffs.push(diff("conv 1x1 stride 2 -> 32", 16, gpu, () => conv2d(cx, w1, null, { stride: 2 })));
  const gx = rand([2, 8, 9, 9], rng);
  const gw = rand([12, 4, 3, 3], rng);
  const gb = rand([12], rng);
  diffs.push(diff("conv 3x3 stride 2 dilation 2 groups 2", 36, gpu, () => conv2d(gx, gw, gb, { stride: 2, padding: 2, dilation: 2, groups: 2 })));
  const s = rand([2, 3, 17, 17], rng, -4, 4);
  diffs.push(diff("softmax last axis", 17, gpu, () => softmax(s, -1)));
  diffs.push(diff("logSoftmax axis 1", 3, gpu, () => logSoftmax(s, 1)));
  const u = rand([40, 50], rng, -6, 6);
  const pos = rand([40, 50], rng, 0.01, 10);
  diffs.push(diff("relu", 0, gpu, () => relu(u)));
  diffs.push(diff("gelu", 0, gpu, () => gelu(u)));
  const e = rand([40, 50], rng, -3, 3);
  diffs.push(diff("exp", 0, gpu, () => exp(e)));
  diffs.push(diff("tanh", 0, gpu, () => tanh(u)));
  diffs.push(diff("sigmoid", 0, gpu, () => sigmoid(u)));
  diffs.push(diff("log", 0, gpu, () => log(pos)));
  diffs.push(diff("sqrt", 0, gpu, () => sqrt(pos)));
  const f = rand([2, 16, 8, 8], rng);
  const [tb, ch, same] = [rand([8], rng), rand([1, 16, 1, 1], rng), rand([2, 16, 8, 8], rng)];
  diffs.push(diff("add trailing bias", 0, gpu, () => add(f, tb)));
  diffs.push(diff("mul per channel", 0, gpu, () => mul(f, ch)));
  diffs.push(diff("sub same shape", 0, gpu, () => sub(f, same)));
  diffs.push(diff("maximum scalar", 0, gpu, () => maximum(f, 0.1)));
  const [lx, lw, lb] = [rand([34, 192], rng, -3, 3), rand([192], rng), rand([192], rng)];
  diffs.push(diff("layerNorm [34,192]", 192, gpu, () => layerNorm(lx, lw, lb, 1e-6)));
  const bn = { weight: rand([16], rng), bias: rand([16], rng), runningMean: rand([16], rng), runningVar: rand([16], rng, 0.5, 2), eps: 1e-5 };
  diffs.push(diff("batchNorm [2,16,8,8]", 0, gpu, () => batchNorm(f, bn)));
  diffs.push(diff("batchNorm with batch statistics", 128, gpu, () => batchNorm(f, bn, true)));
  diffs.push(diff("batch moments (mean, var) [2,16,8,8]", 128, gpu, () => {
    const m = batchStats(f);
    return concat([m.mean, m.variance]);
  }));
  diffs.push(diff("mean over H, W (global average pool)", 64, gpu, () => mean(f, [2, 3])));
  diffs.push(diff("max over channels", 0, gpu, () => max(f, 1)));
  diffs.push(diff("unbiased variance over batch", 2, gpu, () => variance(f, 0, { unbiased: true })));
  diffs.push(diff("maxPool2d 3x3 stride 2 pad 1", 0, gpu, () => maxPool2d(f, 3, { stride: 2, padding: 1 })));
  diffs.push(diff("avgPool2d 3x3 stride 2 pad 1", 9, gpu, () => avgPool2d(f, 3, { stride: 2, padding: 1 })));
  diffs.push(diff("adaptiveAvgPool2d 8x8 -> 3x3", 9, gpu, () => adaptiveAvgPool2d(f, 3)));
  const heads = rand([2, 17, 3, 2, 8], rng);
  diffs.push(diff("permute [2,17,3,2,8] -> (2,0,3,1,4)", 0, gpu, () => permute(heads, [2, 0, 3, 1, 4])));
  diffs.push(diff("slice class token and strided rows", 0, gpu, () => slice(heads, [null, { start: 0, end: 17, step: 4 }, { start: 1, end: 2 }])));
  diffs.push(diff("pad [2,16,8,8] by (1,2) with -2", 0, gpu, () => pad(f, [[0, 0], [0, 0], [1, 2], [2, 1]], -2)));
  diffs.push(diff("concat class token + patches", 0, gpu, () => concat([rand([2, 1, 8], new Rng(3)), rand([2, 16, 8], new Rng(4))], 1)));
  return { mode: rt.mode, renderer: rt.renderer, hardware: rt.hardware, autoBackend: autoBackend().name, diffs };
}

/** Median of `runs` timings after one warm-up call (which also compiles the shaders: reported apart). */
function time(fn: () => unknown, runs: number): { median: number; first: number } {
  const t0 = performance.now();
  fn();
  const first = performance.now() - t0;
  const ts: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    ts.push(performance.now() - t);
  }
  ts.sort((p, q) => p - q);
  return { median: ts[Math.floor(ts.length / 2)], first };
}

function bench(runs: number): TimingRow[] {
  provideGpujs(gpujsLib);
  gpu.runtime();
  const rng = new Rng(5);
  const rows: TimingRow[] = [];
  const cases: { what: string; flop: number; fn: () => Tensor }[] = [];
  const x = rand([197, 768], rng);
  const w = rand([768, 768], rng);
  cases.push({ what: "GEMM 197x768x768 (x W^T)", flop: 2 * 197 * 768 * 768, fn: () => matmul(x, w, { transposeB: true }) });
  for (const [n, c, hw] of [[64, 16, 32], [64, 64, 8]] as const) {
    const cx = rand([n, c, hw, hw], rng);
    const cw = rand([c, c, 3, 3], rng);
    cases.push({ what: `ResNet-20 conv 3x3 ${c}->${c} at ${hw}x${hw}, batch ${n}`, flop: 2 * n * c * hw * hw * c * 9, fn: () => conv2d(cx, cw, null, { padding: 1 }) });
  }
  for (const c of cases) {
    const g = withBackend(gpu, () => time(c.fn, runs));
    const s = simdBackend ? withBackend(simdBackend, () => time(c.fn, runs)) : null;
    rows.push({ what: c.what, gflop: c.flop / 1e9, gpujsMs: g.median, simdMs: s ? s.median : null, compileMs: g.first - g.median });
  }
  return rows;
}

function counts(rt: { transfers: TransferCount }): TransferCount {
  const { launches, uploads, downloads } = rt.transfers;
  return { launches, uploads, downloads };
}

function minus(a: TransferCount, b: TransferCount): TransferCount {
  return { launches: a.launches - b.launches, uploads: a.uploads - b.uploads, downloads: a.downloads - b.downloads };
}

function maxDiff(got: Float32Array, want: Float32Array): { maxAbsDiff: number; maxAbsRef: number } {
  if (got.length !== want.length) throw new Error(`${got.length} values, expected ${want.length}`);
  let maxAbsDiff = 0;
  let maxAbsRef = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
    maxAbsRef = Math.max(maxAbsRef, Math.abs(want[i]));
  }
  return { maxAbsDiff, maxAbsRef };
}

/** A residual block and a classifier head, ten GPU ops, no host op between them: the data never leaves the GPU. */
function chain(): ChainReport {
  provideGpujs(gpujsLib);
  const rt = gpu.runtime();
  const rng = new Rng(23);
  const x = rand([4, 8, 8, 8], rng);
  const w1 = rand([8, 8, 3, 3], rng, -0.3, 0.3);
  const w2 = rand([8, 8, 3, 3], rng, -0.3, 0.3);
  const bn = { weight: rand([8], rng), bias: rand([8], rng), runningMean: rand([8], rng), runningVar: rand([8], rng, 0.5, 2), eps: 1e-5 };
  const fc = rand([10, 512], rng, -0.05, 0.05);
  const fb = rand([10], rng);
  const kept: Tensor[] = [];
  const run = (): Tensor => {
    const h = relu(batchNorm(conv2d(x, w1, null, { padding: 1 }), bn));
    const y = relu(add(batchNorm(conv2d(h, w2, null, { padding: 1 }), bn), x));
    const p = softmax(linear(y.reshape([4, 512]), fc, fb), -1);
    if (kept.length === 0) kept.push(h, p);
    return p;
  };
  const want = withBackend(referenceBackend, run).data;
  kept.length = 0;
  const t0 = counts(rt);
  const got = withBackend(gpu, run);
  const t1 = counts(rt);
  const liveBefore = rt.transfers.liveTextures;
  const values = got.data;
  const t2 = counts(rt);
  // Finalizers run between tasks, never inside this synchronous function: the live count moves only by dispose().
  for (const t of kept) t.dispose();
  return {
    ops: 10,
    beforeRead: minus(t1, t0),
    read: minus(t2, t1),
    ...maxDiff(values, want),
    liveBefore,
    liveAfterDispose: rt.transfers.liveTextures,
  };
}

/** The tiny PyTorch-golden models (test/golden) forward on gpujs, logits read back at the end. */
function models(): ModelReport[] {
  provideGpujs(gpujsLib);
  const rt = gpu.runtime();
  const rg = resnetGolden as unknown as ModelGoldenBase & { config: { depth: number; numClasses: number; imgSize: number } };
  const vg = vitGolden as unknown as ModelGoldenBase & {
    config: { imgSize: number; patch: number; inChans: number; dim: number; depth: number; heads: number; mlpRatio: number; numClasses: number; eps: number };
  };
  const c = vg.config;
  const nets: { model: string; g: ModelGoldenBase; net: { forward(x: Tensor): { logits: Tensor } } }[] = [
    { model: "tiny CIFAR ResNet (depth 8)", g: rg, net: new ResNet(cifarResNetConfig(rg.config.depth, rg.config.numClasses, rg.config.imgSize), detParams(rg)) },
    {
      model: "tiny ViT (depth 3)",
      g: vg,
      net: new VisionTransformer(
        { imgSize: c.imgSize, patchSize: c.patch, inChans: c.inChans, embedDim: c.dim, depth: c.depth, numHeads: c.heads, mlpRatio: c.mlpRatio, numClasses: c.numClasses, eps: c.eps },
        detParams(vg),
      ),
    },
  ];
  return nets.map(({ model, g, net }) => {
    const x = new Tensor(g.input.shape, detInput(g.input.shape));
    const t0 = counts(rt);
    const logits = withBackend(gpu, () => net.forward(x).logits).data;
    return { model, ...maxDiff(logits, Float32Array.from(g.logits.data)), transfers: minus(counts(rt), t0) };
  });
}

const page = globalThis as {
  zoaGpujsCheck?: () => PageReport;
  zoaGpujsBench?: (runs: number) => TimingRow[];
  zoaGpujsChain?: () => ChainReport;
  zoaGpujsModels?: () => ModelReport[];
};
page.zoaGpujsCheck = check;
page.zoaGpujsBench = bench;
page.zoaGpujsChain = chain;
page.zoaGpujsModels = models;
