// Reductions on gpu.js, one output element per thread, so a pooled feature or a BatchNorm's batch statistics
// need no readback (runtime.ts, residency).
// reduce over a contiguous block of kept axes (cpu/reduce.ts keptBlock): x viewed as [A, B, C], B kept,
//   out[b] = op over a < A, c < C of x[(a*B + b)*C + c]   (var: mean first, then squared deviations / (n or n-1))
// batchMoments of x [N, C, S] -> [2, C]: thread t < C gives mean[t], thread C + t the biased variance (two passes).
// Other reductions run on the CPU. Sums are float32 on the GL backends (error ~ n * 2^-24 relative), float64
// in gpu.js's cpu mode; each output's loop runs on one thread, fine for the pooled maps and BN statistics.
import type { KernelFn, KernelSpecs, ReduceOp } from "../../backend.js";
import { Tensor } from "../../tensor.js";
import { keptBlock } from "../cpu/reduce.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits, fits } from "./limits.js";
import type { GpujsRuntime, KernelThis } from "./runtime.js";

const OP_CODE: Record<ReduceOp, number> = { sum: 0, mean: 1, max: 2, min: 3, var: 4 };

interface ReduceConstants {
  A: number;
  B: number;
  C: number;
  op: number;
  /** n - 1 (unbiased var) or n. */
  div: number;
}

/** Kernel body: thread x = kept index b. */
export function reduceBody(this: KernelThis<ReduceConstants>, x: Float32Array): number {
  const b = this.thread.x;
  const op = this.constants.op;
  let acc = 0;
  if (op === 2 || op === 3) acc = x[b * this.constants.C];
  for (let a = 0; a < this.constants.A; a++) {
    for (let c = 0; c < this.constants.C; c++) {
      const v = x[(a * this.constants.B + b) * this.constants.C + c];
      // v !== v: a NaN wins, as on the CPU (exact in cpu mode; GL drivers may fold it away).
      if (op === 2) {
        if (v > acc || v !== v) acc = v;
      } else if (op === 3) {
        if (v < acc || v !== v) acc = v;
      } else acc += v;
    }
  }
  const n = this.constants.A * this.constants.C;
  if (op === 1) return acc / n;
  if (op !== 4) return acc;
  const m = acc / n;
  let ss = 0;
  for (let a = 0; a < this.constants.A; a++) {
    for (let c = 0; c < this.constants.C; c++) {
      const d = x[(a * this.constants.B + b) * this.constants.C + c] - m;
      ss += d * d;
    }
  }
  return ss / this.constants.div;
}

/** Kernel body: thread x < C: mean of channel x; x >= C: biased variance of channel x - C. */
export function momentsBody(this: KernelThis<{ N: number; C: number; S: number }>, x: Float32Array): number {
  let c = this.thread.x;
  if (c >= this.constants.C) c = c - this.constants.C;
  let s = 0;
  for (let n = 0; n < this.constants.N; n++) {
    for (let i = 0; i < this.constants.S; i++) s += x[(n * this.constants.C + c) * this.constants.S + i];
  }
  const count = this.constants.N * this.constants.S;
  const m = s / count;
  if (this.thread.x < this.constants.C) return m;
  let ss = 0;
  for (let n = 0; n < this.constants.N; n++) {
    for (let i = 0; i < this.constants.S; i++) {
      const d = x[(n * this.constants.C + c) * this.constants.S + i] - m;
      ss += d * d;
    }
  }
  return ss / count;
}

export function reduceGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"reduce">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"reduce"> {
  return (inputs: KernelSpecs["reduce"]["inputs"], attrs: KernelSpecs["reduce"]["attrs"]): Tensor => {
    const { x } = inputs;
    const { op, axes, unbiased } = attrs;
    const block = keptBlock(x.shape, axes);
    if (!block || x.size === 0 || !fits(lim, x.size)) return fallback(inputs, attrs);
    const [A, B, C] = block;
    const n = A * C;
    const div = op === "var" && unbiased ? n - 1 : n;
    if (op === "var" && div <= 0) return fallback(inputs, attrs);
    const c: ReduceConstants = { A, B, C, op: OP_CODE[op], div };
    const runtime = rt();
    const key = `reduce|${A},${B},${C},${c.op},${div}|${runtime.argKey(x)}`;
    const k = runtime.kernel(key, () => ({ body: reduceBody as never, settings: { output: [B], constants: { ...c }, ...runtime.outputSettings } }));
    return runtime.run(k, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)), runtime.arg(x));
  };
}

export function batchMomentsGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"batchMoments">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"batchMoments"> {
  return (inputs: KernelSpecs["batchMoments"]["inputs"], attrs: KernelSpecs["batchMoments"]["attrs"]): Tensor => {
    const { x } = inputs;
    const N = x.shape[0];
    const C = x.shape[1];
    if (x.size === 0 || !fits(lim, x.size)) return fallback(inputs, attrs);
    const S = x.size / (N * C);
    const runtime = rt();
    const key = `batchMoments|${N},${C},${S}|${runtime.argKey(x)}`;
    const k = runtime.kernel(key, () => ({ body: momentsBody as never, settings: { output: [2 * C], constants: { N, C, S }, ...runtime.outputSettings } }));
    return runtime.run(k, [2, C], runtime.arg(x));
  };
}
