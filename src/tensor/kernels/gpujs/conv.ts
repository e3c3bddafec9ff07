// Direct 2-D convolution (cross-correlation, NCHW) as one gpu.js kernel, one output element per thread:
// N=batch C=in channels H,W=in spatial K=out channels kh,kw=kernel OH,OW=out spatial G=groups Cg=C/G Kg=K/G
//   out[n,k,oy,ox] = bias[k] + sum_{c<Cg,i<kh,j<kw} x[n, g*Cg + c, oy*sh - ph + i*dh, ox*sw - pw + j*dw] * w[k,c,i,j], g = k / Kg
// Output [x=OW, y=OH, z=n*K + k]; n and g come from floor((z + 0.5) / K) (exact, see limits.ts). Images are
// processed in chunks so every index stays below MAX_GPU_ELEMENTS; a weight tensor above it runs on the CPU.
// One chunk (the usual case) reads x where it is and leaves the output on the GPU (runtime.ts, residency).
import type { KernelFn, KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits, fits } from "./limits.js";
import type { GpujsRuntime, KernelThis } from "./runtime.js";

/** A sliding window over an H x W input: kernel kh x kw, strides sh, sw, paddings ph, pw (conv and pooling). */
export interface WindowConstants {
  H: number;
  W: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

interface ConvConstants extends WindowConstants {
  C: number;
  K: number;
  Cg: number;
  Kg: number;
  dh: number;
  dw: number;
}

/** Kernel body: thread (x, y, z) = (ox, oy, n*K + k); `bias` is zeros when the conv has none. */
export function conv2dBody(this: KernelThis<ConvConstants>, x: Float32Array, w: Float32Array, bias: Float32Array): number {
  const ox = this.thread.x;
  const oy = this.thread.y;
  const n = Math.floor((this.thread.z + 0.5) / this.constants.K);
  const k = this.thread.z - n * this.constants.K;
  const g = Math.floor((k + 0.5) / this.constants.Kg);
  let acc = bias[k];
  for (let c = 0; c < this.constants.Cg; c++) {
    const plane = (n * this.constants.C + g * this.constants.Cg + c) * this.constants.H;
    const wBase = (k * this.constants.Cg + c) * this.constants.kh;
    for (let i = 0; i < this.constants.kh; i++) {
      const iy = oy * this.constants.sh - this.constants.ph + i * this.constants.dh;
      if (iy >= 0 && iy < this.constants.H) {
        for (let j = 0; j < this.constants.kw; j++) {
          const ix = ox * this.constants.sw - this.constants.pw + j * this.constants.dw;
          if (ix >= 0 && ix < this.constants.W) {
            acc += x[(plane + iy) * this.constants.W + ix] * w[(wBase + i) * this.constants.kw + j];
          }
        }
      }
    }
  }
  return acc;
}

export function conv2dGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"conv2d">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"conv2d"> {
  return (inputs: KernelSpecs["conv2d"]["inputs"], attrs: KernelSpecs["conv2d"]["attrs"]): Tensor => {
    const { x, w, bias } = inputs;
    const [N, C, H, W] = x.shape;
    const [K, Cg, kh, kw] = w.shape;
    const { stride, padding, dilation, groups: G, outShape } = attrs;
    const [, , OH, OW] = outShape;
    const perImageIn = C * H * W;
    const perImageOut = K * OH * OW;
    if (N * perImageOut === 0) return new Tensor(outShape);
    // Images per launch: input and output chunks below MAX_GPU_ELEMENTS, n*K + k below MAX_GPU_DIVIDEND.
    const chunk = Math.min(
      N,
      Math.floor((lim.elements - 1) / Math.max(1, perImageIn)),
      Math.floor((lim.elements - 1) / perImageOut),
      Math.floor((lim.dividend - 1) / K),
    );
    if (chunk < 1 || !fits(lim, w.size)) return fallback(inputs, attrs);
    const c: ConvConstants = {
      C, H, W, K, Cg, Kg: K / G, kh, kw,
      sh: stride[0], sw: stride[1], ph: padding[0], pw: padding[1], dh: dilation[0], dw: dilation[1],
    };
    const runtime = rt();
    const convKey = (nc: number, sizes: string): string => `conv2d|${nc}|${Object.values(c).join(",")}|${OH},${OW}|${sizes}`;
    if (chunk >= N) {
      const key = convKey(N, `${x.size},${w.size}|${runtime.argKey(x, w)},${bias ? runtime.argKey(bias) : "h"}`);
      const k = runtime.kernel(key, () => ({ body: conv2dBody as never, settings: { output: [OW, OH, N * K], constants: { ...c }, ...runtime.outputSettings } }));
      return runtime.run(k, outShape, runtime.arg(x), runtime.arg(w), bias ? runtime.arg(bias) : new Float32Array(K));
    }
    const out = new Tensor(outShape);
    const bd = bias ? bias.data : new Float32Array(K);
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const nc = Math.min(chunk, N - n0);
      // Chunks are whole images, so a chunk of x is contiguous: n in the kernel counts from the chunk start.
      const xs = x.data.subarray(n0 * perImageIn, (n0 + nc) * perImageIn);
      const k = runtime.kernel(convKey(nc, `${xs.length},${w.size}|h,h,h`), () => ({ body: conv2dBody as never, settings: { output: [OW, OH, nc * K], constants: { ...c } } }));
      runtime.runInto(k, out.data, n0 * perImageOut, xs, w.data, bd);
    }
    return out;
  };
}
