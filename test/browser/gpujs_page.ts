// Page side of test/browser/gpujs.test.ts (and tools/measure/gpujs_browser.ts): bundled with esbuild for the
// browser together with gpu.js's browser build, it runs the gpujs backend's kernels on WebGL and the naive
// reference kernels in the same page, and reports max |diff| per op. Also times gpujs against simd.
import * as gpujsLib from "gpu.js";
import { autoBackend, gpujsBackend, referenceBackend, simdBackend } from "../../src/tensor/backends.js";
import {
  type Backend,
  Rng,
  Tensor,
  add,
  batchNorm,
  conv2d,
  exp,
  gelu,
  layerNorm,
  linear,
  log,
  logSoftmax,
  matmul,
  maximum,
  mul,
  provideGpujs,
  relu,
  sigmoid,
  softmax,
  sqrt,
  sub,
  tanh,
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
  let maxAbsDiff = 0;
  let maxAbsRef = 0;
  for (let i = 0; i < want.size; i++) {
    const d = Math.abs(got.data[i] - want.data[i]);
    maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
    maxAbsRef = Math.max(maxAbsRef, Math.abs(want.data[i]));
  }
  return { op, K, maxAbsDiff, maxAbsRef };
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

const page = globalThis as { zoaGpujsCheck?: () => PageReport; zoaGpujsBench?: (runs: number) => TimingRow[] };
page.zoaGpujsCheck = check;
page.zoaGpujsBench = bench;
