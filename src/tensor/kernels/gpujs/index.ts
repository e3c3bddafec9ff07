// The "gpujs" backend: matmul, conv2d, unary/binary elementwise, softmax, layerNorm, batchNorm, batch moments,
// reductions over a contiguous block, pooling, permute, slice, pad and concat as gpu.js kernels (WebGL2/WebGL in
// a browser, headless-gl or gpu.js's cpu mode in Node); argmax, and any call too large for exact float32
// indexing (limits.ts), runs on the `fallback` CPU backend.
// gpu.js starts on the first kernel call or on runtime(), never at import (runtime.ts).
// Data residency (runtime.ts): on the GL backends each op's output stays on the GPU as a texture inside the
// Tensor; the next op reads the texture, and the host reads values back only when code asks for `.data`
// (a CPU kernel, the logits at the end).
// Integer (quantized) kernels are not here: they run on the CPU (src/quant/kernels), never on gpu.js.
import { type Backend, type KernelFn, type KernelName, type KernelSpecs, type KernelTable, tableBackend } from "../../backend.js";
import type { Tensor } from "../../tensor.js";
import { conv2dGpujs } from "./conv.js";
import { binaryGpujs, unaryGpujs } from "./elementwise.js";
import { matmulGpujs } from "./matmul.js";
import { concatGpujs, padGpujs, permuteGpujs, sliceGpujs } from "./movement.js";
import { adaptiveAvgPool2dGpujs, pool2dGpujs } from "./pool.js";
import { batchMomentsGpujs, reduceGpujs } from "./reduce.js";
import { batchNormGpujs, layerNormGpujs } from "./norm.js";
import { type GpujsMode, GpujsRuntime } from "./runtime.js";
import { softmaxGpujs } from "./softmax.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits } from "./limits.js";

export { GpujsRuntime, GpujsUnavailableError, gpujsAtHand, provideGpujs, type GpujsMode, type GpujsModule, type ResolvedGpujsMode } from "./runtime.js";
export { DEFAULT_GPU_LIMITS, MAX_GPU_DIVIDEND, MAX_GPU_ELEMENTS, type GpuLimits } from "./limits.js";

export interface GpujsBackend extends Backend {
  readonly requestedMode: GpujsMode;
  /** Starts gpu.js on first call (throws GpujsUnavailableError when it cannot), then returns the same runtime. */
  runtime(): GpujsRuntime;
  /** Whether gpu.js has been started. */
  readonly started: boolean;
  /** Destroys the compiled kernels and the GPU instance; the next call starts a fresh one. */
  dispose(): void;
}

/** The backend's kernel table over a lazily started runtime; `fallback` runs what the GPU kernels decline. */
export function gpujsKernels(runtime: () => GpujsRuntime, fallback: Backend, lim: GpuLimits = DEFAULT_GPU_LIMITS): Partial<KernelTable> {
  const on = <K extends KernelName>(k: K): KernelFn<K> => (inputs: KernelSpecs[K]["inputs"], attrs: KernelSpecs[K]["attrs"]): Tensor => fallback.run(k, inputs, attrs);
  return {
    matmul: matmulGpujs(runtime, on("matmul"), lim),
    conv2d: conv2dGpujs(runtime, on("conv2d"), lim),
    unary: unaryGpujs(runtime, lim),
    binary: binaryGpujs(runtime, on("binary"), lim),
    softmax: softmaxGpujs(runtime, on("softmax"), lim),
    layerNorm: layerNormGpujs(runtime, on("layerNorm"), lim),
    batchNorm: batchNormGpujs(runtime, on("batchNorm"), lim),
    batchMoments: batchMomentsGpujs(runtime, on("batchMoments"), lim),
    reduce: reduceGpujs(runtime, on("reduce"), lim),
    pool2d: pool2dGpujs(runtime, on("pool2d"), lim),
    adaptiveAvgPool2d: adaptiveAvgPool2dGpujs(runtime, on("adaptiveAvgPool2d"), lim),
    permute: permuteGpujs(runtime, on("permute"), lim),
    slice: sliceGpujs(runtime, on("slice"), lim),
    pad: padGpujs(runtime, on("pad"), lim),
    concat: concatGpujs(runtime, on("concat"), lim),
  };
}

/**
 * A gpu.js backend named "gpujs" asking gpu.js for `mode`; kernels it lacks run on `fallback`. `limits` lowers
 * the split / fallback bounds (tests use it to exercise the splitting on small tensors).
 * @example const b = createGpujsBackend("cpu", cpuBackend); withBackend(b, () => matmul(a, w));
 */
export function createGpujsBackend(mode: GpujsMode, fallback: Backend, limits: GpuLimits = DEFAULT_GPU_LIMITS): GpujsBackend {
  let rt: GpujsRuntime | null = null;
  const runtime = (): GpujsRuntime => {
    rt ??= new GpujsRuntime(mode);
    return rt;
  };
  const inner = tableBackend("gpujs", "gpu.js", gpujsKernels(runtime, fallback, limits), fallback);
  return {
    name: "gpujs",
    get description(): string {
      const rest = `the rest on ${fallback.name}`;
      return rt ? `${rt.description}; ${rest}` : `gpu.js (${mode}, not started); ${rest}`;
    },
    supports: inner.supports,
    run: inner.run,
    requestedMode: mode,
    runtime,
    get started(): boolean {
      return rt !== null;
    },
    dispose(): void {
      rt?.dispose();
      rt = null;
    },
  };
}
