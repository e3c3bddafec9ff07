// softmax / logSoftmax along one axis on gpu.js, in two kernels chained on the device:
//   lse[r] = max_i x[r, i] + log(sum_i exp(x[r, i] - max))          (one thread per row, a pipeline texture)
//   out[r, i] = exp(x[r, i] - lse[r])   (softmax)   or   x[r, i] - lse[r]   (logSoftmax)
// x viewed as [outer, D, inner] with D the softmax axis; row r = a*inner + b. The lse texture is read by
// the second kernel without a readback; the output stays on the GPU on the GL backends (runtime.ts). Float32
// sums in the GL modes (error ~ D * 2^-24 relative).
import type { KernelFn, KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits, fits } from "./limits.js";
import type { GpujsRuntime, KernelArg, KernelThis } from "./runtime.js";

interface RowConstants {
  D: number;
  inner: number;
}

/** Kernel body: thread x = row r = a*inner + b; returns the row's log-sum-exp. */
export function logSumExpBody(this: KernelThis<RowConstants>, x: Float32Array): number {
  const a = Math.floor((this.thread.x + 0.5) / this.constants.inner);
  const base = a * this.constants.D * this.constants.inner + (this.thread.x - a * this.constants.inner);
  let m = x[base];
  for (let i = 1; i < this.constants.D; i++) m = Math.max(m, x[base + i * this.constants.inner]);
  let s = 0;
  for (let i = 0; i < this.constants.D; i++) s += Math.exp(x[base + i * this.constants.inner] - m);
  return m + Math.log(s);
}

/** Kernel body: thread (x, y, z) = (b, i, a). */
export function softmaxApplyBody(this: KernelThis<RowConstants & { log: number }>, x: Float32Array, lse: Float32Array): number {
  const v = x[(this.thread.z * this.constants.D + this.thread.y) * this.constants.inner + this.thread.x] - lse[this.thread.z * this.constants.inner + this.thread.x];
  return this.constants.log === 1 ? v : Math.exp(v);
}

export function softmaxGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"softmax">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"softmax"> {
  return (inputs: KernelSpecs["softmax"]["inputs"], attrs: KernelSpecs["softmax"]["attrs"]): Tensor => {
    const { x } = inputs;
    const { axis, log } = attrs;
    const D = x.shape[axis];
    let inner = 1;
    for (let d = axis + 1; d < x.rank; d++) inner *= x.shape[d];
    const outer = D * inner === 0 ? 0 : x.size / (D * inner);
    if (x.size === 0) return new Tensor(x.shape);
    const rows = outer * inner;
    if (!fits(lim, x.size) || rows >= lim.dividend) return fallback(inputs, attrs);
    const runtime = rt();
    const c: RowConstants = { D, inner };
    const size = `${D},${inner},${outer}|${runtime.argKey(x)}`;
    const stats = runtime.kernel(`softmax.lse|${size}`, () => ({ body: logSumExpBody as never, settings: { output: [rows], constants: { ...c }, pipeline: true } }));
    const apply = runtime.kernel(`softmax.apply|${size}|${log}`, () => ({
      body: softmaxApplyBody as never,
      settings: { output: [inner, D, outer], constants: { ...c, log: log ? 1 : 0 }, ...runtime.outputSettings },
    }));
    const xa = runtime.arg(x);
    const lse = runtime.launch(stats, xa) as KernelArg;
    return runtime.run(apply, x.shape, xa, lse);
  };
}
