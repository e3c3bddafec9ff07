// TensorFlow.js as a bench peer: tfjs-core with the cpu backend (plain JS kernels) and the wasm backend
// (XNNPACK, SIMD128; single thread: Node gives it no worker threads, and setThreadsCount(1) makes that explicit).
// Loaded with dynamic imports so the bench still runs when the packages are missing (the section prints
// "[peer skipped] reason"). tfjs is one global engine: `use(backend)` switches it before each measurement.
// tfjs convolutions are NHWC (filters [kh, kw, C, K]); the helpers here convert from the engine's NCHW.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export type Tf = typeof import("@tensorflow/tfjs-core");
export type TfBackend = "wasm" | "cpu";

export interface TfjsPeer {
  tf: Tf;
  version: string;
  /** Backends that initialised, and why the others did not. */
  available: Record<TfBackend, true | string>;
  /** Makes `backend` the active one (throws if it did not initialise). */
  use(backend: TfBackend): Promise<void>;
}

let loaded: Promise<TfjsPeer> | null = null;

async function init(): Promise<TfjsPeer> {
  const tf: Tf = await import("@tensorflow/tfjs-core");
  const available: Record<TfBackend, true | string> = { wasm: "not loaded", cpu: "not loaded" };
  try {
    await import("@tensorflow/tfjs-backend-cpu");
    available.cpu = (await tf.setBackend("cpu")) ? true : "tf.setBackend('cpu') returned false";
  } catch (e) {
    available.cpu = `@tensorflow/tfjs-backend-cpu: ${(e as Error).message}`;
  }
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + "/");
    wasm.setThreadsCount(1);
    available.wasm = (await tf.setBackend("wasm")) ? true : "tf.setBackend('wasm') returned false";
    if (available.wasm === true && !tf.env().getBool("WASM_HAS_SIMD_SUPPORT")) available.wasm = "no wasm SIMD support";
  } catch (e) {
    available.wasm = `@tensorflow/tfjs-backend-wasm: ${(e as Error).message}`;
  }
  const use = async (backend: TfBackend): Promise<void> => {
    const a = available[backend];
    if (a !== true) throw new Error(`tfjs ${backend}: ${a}`);
    if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`tfjs ${backend}: setBackend failed`);
  };
  return { tf, version: tf.version_core, available, use };
}

/** Loads tfjs once per process (rejects when @tensorflow/tfjs-core itself is missing). */
export function loadTfjs(): Promise<TfjsPeer> {
  loaded ??= init();
  return loaded;
}

/** NCHW -> NHWC copy of x [N, C, H, W]. */
export function nchwToNhwc(x: Float32Array, N: number, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < H * W; p++) out[(n * H * W + p) * C + c] = x[(n * C + c) * H * W + p];
  return out;
}

/** PyTorch conv weight [K, C, kh, kw] -> tfjs filter [kh, kw, C, K]. */
export function oihwToHwio(w: Float32Array, K: number, C: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let k = 0; k < K; k++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) out[((i * kw + j) * C + c) * K + k] = w[((k * C + c) * kh + i) * kw + j];
  return out;
}
