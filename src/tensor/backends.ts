// The explicit list of backends (no registration by import side effects, style.md C4/A2), and the active one.
// - reference: naive CPU loops, the oracle every other backend is tested against.
// - cpu: the same kernels except packed GEMM matmul, im2col/direct conv, blocked reductions and one-pass BN batch
//   statistics (plain TypeScript).
// - simd: the cpu kernels with GEMM and conv on WebAssembly SIMD128 code emitted by src/wasm (first when available).
// - simd: matmul and conv2d on a WebAssembly SIMD128 GEMM emitted from TypeScript (kernels/simd), when available.
// - gpujs: GEMM, conv, elementwise, softmax and norms as gpu.js kernels (kernels/gpujs), the rest on simd/cpu.
//   Listed last and started lazily: `auto` picks it only when gpu.js is already at hand (provideGpujs or a global
//   GPU; never loaded for the check) and runs on a hardware GPU, so the default backend never pays its init.
import { type Backend, type KernelTable, tableBackend } from "./backend.js";
import { conv2d, conv2dNaive } from "./kernels/cpu/conv.js";
import { binary, unary } from "./kernels/cpu/elementwise.js";
import { matmul, matmulNaive } from "./kernels/cpu/matmul.js";
import { concat, pad, permute, slice } from "./kernels/cpu/movement.js";
import { batchMoments, batchMomentsNaive } from "./kernels/cpu/moments.js";
import { batchNorm, layerNorm } from "./kernels/cpu/norm.js";
import { adaptiveAvgPool2d, pool2d } from "./kernels/cpu/pool.js";
import { argmax, reduce, reduceNaive } from "./kernels/cpu/reduce.js";
import { softmax } from "./kernels/cpu/softmax.js";
import { simdKernels } from "./kernels/simd/index.js";
import { type GpujsBackend, type GpujsMode, createGpujsBackend, gpujsAtHand } from "./kernels/gpujs/index.js";

const referenceKernels: KernelTable = {
  unary,
  binary,
  matmul: matmulNaive,
  conv2d: conv2dNaive,
  pool2d,
  adaptiveAvgPool2d,
  layerNorm,
  batchNorm,
  batchMoments: batchMomentsNaive,
  softmax,
  reduce: reduceNaive,
  argmax,
  permute,
  slice,
  concat,
  pad,
};

export const referenceBackend: Backend = tableBackend("reference", "CPU reference (naive loops)", referenceKernels);
export const cpuBackend: Backend = tableBackend(
  "cpu",
  "CPU, plain TypeScript (packed 4x4 GEMM, im2col conv)",
  { ...referenceKernels, matmul, conv2d, reduce, batchMoments },
);

const simd = simdKernels();
/** Null where the engine has no WebAssembly SIMD128. */
export const simdBackend: Backend | null = simd
  ? tableBackend("simd", "CPU, WebAssembly SIMD128 kernels (emitted from TypeScript)", { ...referenceKernels, matmul, conv2d, reduce, batchMoments, ...simd })
  : null;

/**
 * A gpu.js backend for `mode` (default: headless-gl or gpu.js's cpu mode in Node, WebGL2/WebGL in a browser);
 * kernels it lacks run on simd (or cpu). gpu.js starts on first use.
 * @example withBackend(gpujsBackend("cpu"), () => matmul(a, b))
 */
export function gpujsBackend(mode: GpujsMode = "auto"): GpujsBackend {
  return createGpujsBackend(mode, simdBackend ?? cpuBackend);
}

/** The registered "gpujs" backend (`--backend gpujs`, `setBackend("gpujs")`). */
export const gpujs: GpujsBackend = gpujsBackend("auto");

/** Every backend: the CPU ones in order of preference for `auto`, then gpujs. */
export const BACKENDS: readonly Backend[] = [...(simdBackend ? [simdBackend] : []), cpuBackend, referenceBackend, gpujs];

/** What `auto` selects: gpujs on a hardware GPU when gpu.js is already at hand, else the first CPU backend. */
export function autoBackend(): Backend {
  if (gpujsAtHand()) {
    try {
      if (gpujs.runtime().hardware) return gpujs;
    } catch {
      // gpu.js is present but cannot start here (no usable context): auto stays on the CPU.
    }
  }
  return BACKENDS[0];
}

let active: Backend = BACKENDS[0];

export function getBackend(): Backend {
  return active;
}

export function backendNames(): string[] {
  return BACKENDS.map((b) => b.name);
}

/**
 * Selects a backend by name ("auto": see autoBackend). Throws naming the valid choices; selecting gpujs starts
 * gpu.js now, so a missing gpu.js is reported here (GpujsUnavailableError) rather than at the first op.
 */
export function setBackend(name: string): Backend {
  const found = name === "auto" ? autoBackend() : BACKENDS.find((b) => b.name === name);
  if (!found) throw new Error(`unknown backend '${name}' (available: auto, ${backendNames().join(", ")})`);
  if (found === gpujs) gpujs.runtime();
  active = found;
  return found;
}

/** Runs `fn` with `backend` active, restoring the previous one afterwards. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const prev = active;
  active = backend;
  try {
    return fn();
  } finally {
    active = prev;
  }
}
