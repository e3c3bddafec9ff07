// Pooling on gpu.js, one output element per thread, NCHW (as kernels/cpu/pool.ts):
// pool2d: max (padding counts as -inf) or average over a kh x kw window; countIncludePad divides by the
//   window clipped to the padded input (PyTorch), else by the in-bounds taps. Output [x=OW, y=OH, z=n*C + c].
// adaptiveAvgPool2d: bin oy covers rows [floor(oy*H/OH), ceil((oy+1)*H/OH)) (same for columns); the integer
//   divisions are floor((a + 0.5) / b) and floor((a + b - 0.5) / b), exact while a < MAX_GPU_DIVIDEND.
// Outputs stay on the GPU on the GL backends (runtime.ts, residency); a ResNet's global average pool is a
// reduce (reduce.ts).
import type { KernelFn, KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";
import type { WindowConstants } from "./conv.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits, fits } from "./limits.js";
import type { GpujsRuntime, KernelThis } from "./runtime.js";

interface PoolConstants extends WindowConstants {
  /** 1: max, 0: average. */
  max: number;
  countIncludePad: number;
}

/** Kernel body: thread (x, y, z) = (ox, oy, n*C + c). */
export function pool2dBody(this: KernelThis<PoolConstants>, x: Float32Array): number {
  const y0 = this.thread.y * this.constants.sh - this.constants.ph;
  const x0 = this.thread.x * this.constants.sw - this.constants.pw;
  const plane = this.thread.z * this.constants.H * this.constants.W;
  let acc = 0;
  if (this.constants.max === 1) acc = -3.4028234663852886e38;
  let count = 0;
  let found = 0;
  for (let i = 0; i < this.constants.kh; i++) {
    const iy = y0 + i;
    if (iy >= 0 && iy < this.constants.H) {
      for (let j = 0; j < this.constants.kw; j++) {
        const ix = x0 + j;
        if (ix >= 0 && ix < this.constants.W) {
          const v = x[plane + iy * this.constants.W + ix];
          if (this.constants.max === 1) {
            // v !== v: a NaN wins, as on the CPU (GL drivers may fold the test away; exact in cpu mode).
            if (found === 0 || v > acc || v !== v) acc = v;
            found = 1;
          } else acc += v;
          count += 1;
        }
      }
    }
  }
  if (this.constants.max === 1) return acc;
  let div = count;
  if (this.constants.countIncludePad === 1) {
    const hEnd = Math.min(y0 + this.constants.kh, this.constants.H + this.constants.ph);
    const wEnd = Math.min(x0 + this.constants.kw, this.constants.W + this.constants.pw);
    div = (hEnd - y0) * (wEnd - x0);
  }
  return acc / div;
}

/** Kernel body: thread (x, y, z) = (ox, oy, n*C + c). */
export function adaptiveAvgBody(this: KernelThis<{ H: number; W: number; OH: number; OW: number }>, x: Float32Array): number {
  const oy = this.thread.y;
  const ox = this.thread.x;
  const y0 = Math.floor((oy * this.constants.H + 0.5) / this.constants.OH);
  const y1 = Math.floor(((oy + 1) * this.constants.H + this.constants.OH - 0.5) / this.constants.OH);
  const x0 = Math.floor((ox * this.constants.W + 0.5) / this.constants.OW);
  const x1 = Math.floor(((ox + 1) * this.constants.W + this.constants.OW - 0.5) / this.constants.OW);
  const plane = this.thread.z * this.constants.H * this.constants.W;
  let acc = 0;
  for (let iy = 0; iy < this.constants.H; iy++) {
    if (iy >= y0 && iy < y1) {
      for (let ix = 0; ix < this.constants.W; ix++) {
        if (ix >= x0 && ix < x1) acc += x[plane + iy * this.constants.W + ix];
      }
    }
  }
  return acc / ((y1 - y0) * (x1 - x0));
}

export function pool2dGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"pool2d">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"pool2d"> {
  return (inputs: KernelSpecs["pool2d"]["inputs"], attrs: KernelSpecs["pool2d"]["attrs"]): Tensor => {
    const { x } = inputs;
    const [N, C, H, W] = x.shape;
    const { mode, kernel, stride, padding, countIncludePad, outShape } = attrs;
    const [, , OH, OW] = outShape;
    const size = N * C * OH * OW;
    if (size === 0) return new Tensor(outShape);
    if (!fits(lim, x.size, size)) return fallback(inputs, attrs);
    const c: PoolConstants = {
      H, W, kh: kernel[0], kw: kernel[1], sh: stride[0], sw: stride[1], ph: padding[0], pw: padding[1],
      max: mode === "max" ? 1 : 0, countIncludePad: countIncludePad ? 1 : 0,
    };
    const runtime = rt();
    const key = `pool2d|${N * C},${OH},${OW}|${Object.values(c).join(",")}|${runtime.argKey(x)}`;
    const k = runtime.kernel(key, () => ({ body: pool2dBody as never, settings: { output: [OW, OH, N * C], constants: { ...c }, ...runtime.outputSettings } }));
    return runtime.run(k, outShape, runtime.arg(x));
  };
}

export function adaptiveAvgPool2dGpujs(
  rt: () => GpujsRuntime,
  fallback: KernelFn<"adaptiveAvgPool2d">,
  lim: GpuLimits = DEFAULT_GPU_LIMITS,
): KernelFn<"adaptiveAvgPool2d"> {
  return (inputs: KernelSpecs["adaptiveAvgPool2d"]["inputs"], attrs: KernelSpecs["adaptiveAvgPool2d"]["attrs"]): Tensor => {
    const { x } = inputs;
    const [N, C, H, W] = x.shape;
    const [, , OH, OW] = attrs.outShape;
    const size = N * C * OH * OW;
    if (size === 0 || H * W === 0) return fallback(inputs, attrs);
    if (!fits(lim, x.size, size) || (OH + 1) * H + OH >= lim.dividend || (OW + 1) * W + OW >= lim.dividend) return fallback(inputs, attrs);
    const c = { H, W, OH, OW };
    const runtime = rt();
    const key = `adaptiveAvg|${N * C},${H},${W},${OH},${OW}|${runtime.argKey(x)}`;
    const k = runtime.kernel(key, () => ({ body: adaptiveAvgBody as never, settings: { output: [OW, OH, N * C], constants: { ...c }, ...runtime.outputSettings } }));
    return runtime.run(k, attrs.outShape, runtime.arg(x));
  };
}
