// Normalisation kernels on gpu.js.
// layerNorm over the last dim D of x [R, D], three kernels chained on the device (two pipeline textures):
//   mean[r] = sum_i x[r,i] / D;   rstd[r] = 1 / sqrt(sum_i (x[r,i] - mean[r])^2 / D + eps);
//   y[r,i] = (x[r,i] - mean[r]) * rstd[r] * weight[i] + bias[i]       (ones / zeros when absent)
// batchNorm on x [N, C, S]: y = x * scale[c] + shift[c], scale = w / sqrt(var + eps), shift = b - mean * scale,
// with the C-long scale and shift computed on the CPU (as kernels/cpu/norm.ts). Output [x=S, y=C, z=N].
// Both take x where it is and leave the output on the GPU on the GL backends (runtime.ts, residency).
import type { KernelFn, KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits, fits } from "./limits.js";
import type { GpujsRuntime, KernelArg, KernelThis } from "./runtime.js";

/** Kernel body: thread x = row. */
export function rowMeanBody(this: KernelThis<{ D: number }>, x: Float32Array): number {
  const base = this.thread.x * this.constants.D;
  let s = 0;
  for (let i = 0; i < this.constants.D; i++) s += x[base + i];
  return s / this.constants.D;
}

/** Kernel body: thread x = row; `mean` is the previous kernel's texture. */
export function rowRstdBody(this: KernelThis<{ D: number; eps: number }>, x: Float32Array, mean: Float32Array): number {
  const base = this.thread.x * this.constants.D;
  const m = mean[this.thread.x];
  let v = 0;
  for (let i = 0; i < this.constants.D; i++) {
    const d = x[base + i] - m;
    v += d * d;
  }
  return 1 / Math.sqrt(v / this.constants.D + this.constants.eps);
}

/** Kernel body: thread (x, y) = (i, r). */
export function layerNormApplyBody(
  this: KernelThis<{ D: number }>,
  x: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
): number {
  const r = this.thread.y;
  const i = this.thread.x;
  return (x[r * this.constants.D + i] - mean[r]) * rstd[r] * weight[i] + bias[i];
}

/** Kernel body: thread (x, y, z) = (s, c, n). */
export function channelAffineBody(this: KernelThis<{ C: number; S: number }>, x: Float32Array, scale: Float32Array, shift: Float32Array): number {
  const c = this.thread.y;
  return x[(this.thread.z * this.constants.C + c) * this.constants.S + this.thread.x] * scale[c] + shift[c];
}

export function layerNormGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"layerNorm">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"layerNorm"> {
  return (inputs: KernelSpecs["layerNorm"]["inputs"], attrs: KernelSpecs["layerNorm"]["attrs"]): Tensor => {
    const { x, weight, bias } = inputs;
    const D = x.shape[x.rank - 1];
    const R = D === 0 ? 0 : x.size / D;
    if (x.size === 0) return new Tensor(x.shape);
    if (!fits(lim, x.size)) return fallback(inputs, attrs);
    const runtime = rt();
    const size = `${R},${D}|${runtime.argKey(x)}`;
    const meanK = runtime.kernel(`layerNorm.mean|${size}`, () => ({ body: rowMeanBody as never, settings: { output: [R], constants: { D }, pipeline: true } }));
    const rstdK = runtime.kernel(`layerNorm.rstd|${size}|${attrs.eps}`, () => ({
      body: rowRstdBody as never,
      settings: { output: [R], constants: { D, eps: attrs.eps }, pipeline: true },
    }));
    const wb = `${weight ? runtime.argKey(weight) : "h"},${bias ? runtime.argKey(bias) : "h"}`;
    const applyK = runtime.kernel(`layerNorm.apply|${size}|${wb}`, () => ({
      body: layerNormApplyBody as never,
      settings: { output: [D, R], constants: { D }, ...runtime.outputSettings },
    }));
    const xa = runtime.arg(x);
    const mean = runtime.launch(meanK, xa) as KernelArg;
    const rstd = runtime.launch(rstdK, xa, mean) as KernelArg;
    const w = weight ? runtime.arg(weight) : new Float32Array(D).fill(1);
    const b = bias ? runtime.arg(bias) : new Float32Array(D);
    return runtime.run(applyK, x.shape, xa, mean, rstd, w, b);
  };
}

export function batchNormGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"batchNorm">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"batchNorm"> {
  return (inputs: KernelSpecs["batchNorm"]["inputs"], attrs: KernelSpecs["batchNorm"]["attrs"]): Tensor => {
    const { x, mean, variance, weight, bias } = inputs;
    const N = x.shape[0];
    const C = x.shape[1];
    if (x.size === 0) return new Tensor(x.shape);
    if (!fits(lim, x.size)) return fallback(inputs, attrs);
    const S = x.size / (N * C);
    const scale = new Float32Array(C);
    const shift = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const inv = 1 / Math.sqrt(variance.data[c] + attrs.eps);
      scale[c] = (weight ? weight.data[c] : 1) * inv;
      shift[c] = (bias ? bias.data[c] : 0) - mean.data[c] * scale[c];
    }
    const runtime = rt();
    const k = runtime.kernel(`batchNorm|${N},${C},${S}|${runtime.argKey(x)}`, () => ({
      body: channelAffineBody as never,
      settings: { output: [S, C, N], constants: { C, S }, ...runtime.outputSettings },
    }));
    return runtime.run(k, x.shape, runtime.arg(x), scale, shift);
  };
}
