// Driver of the SIMD per-tensor fake quantization (fake_quantize_kernel.ts): its own small instance and memory (one
// 64 KiB page, never grown, so the views never detach and the integer runtime's resident data is never touched).
// The input streams through in chunks of CHUNK floats: copy in, quantize in place, copy out.
import { simdSupported } from "../../../wasm/features.js";
import { ModuleBuilder } from "../../../wasm/module.js";
import { type FakeQuantFn, addFakeQuantizeFunctions } from "./fake_quantize_kernel.js";

const MEMORY_IMPORT = { module: "env", name: "memory" } as const;
/** Floats per chunk: the whole page (64 KiB), a multiple of 4. */
const CHUNK = 16384;

interface FakeQuantRuntime {
  heap: Float32Array;
  fq: FakeQuantFn;
}

let runtime: FakeQuantRuntime | null = null;

export function emitFakeQuantizeModule(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ ...MEMORY_IMPORT, initial: 1, maximum: 1 });
  addFakeQuantizeFunctions(m);
  return m.build();
}

function getRuntime(): FakeQuantRuntime {
  if (runtime) return runtime;
  if (!simdSupported()) throw new Error("fakeQuantizeSimd: WebAssembly SIMD128 is not supported by this engine");
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const module = new WebAssembly.Module(emitFakeQuantizeModule());
  const e = new WebAssembly.Instance(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } }).exports;
  runtime = { heap: new Float32Array(memory.buffer), fq: e.fakeQuantPerTensor as unknown as FakeQuantFn };
  return runtime;
}

/**
 * out[i] = float32(s * (clamp(roundHalfToEven(x[i] / s) + z, qmin, qmax) - z)), NaN -> +0: qtensor.ts fakeQuantize
 * for per-tensor params, bit for bit. Preconditions (the caller's validateQParams): s a finite float32 > 0, z and
 * qmin <= z <= qmax integers.
 * @example fakeQuantizeSimd(Float32Array.of(0.3), 1 / 3, 0, 0, 3) -> Float32Array [1/3]
 */
export function fakeQuantizeSimd(x: Float32Array, s: number, z: number, qmin: number, qmax: number): Float32Array {
  const n = x.length;
  if (n === 0) return new Float32Array(0);
  const rt = getRuntime();
  // the lanes past the end of the last vector hold stale floats: quantized too (no traps), never copied out
  if (n <= CHUNK) {
    rt.heap.set(x);
    rt.fq(0, (n + 3) & ~3, s, z, qmin, qmax);
    return rt.heap.slice(0, n);
  }
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start);
    rt.heap.set(x.subarray(start, start + m));
    rt.fq(0, (m + 3) & ~3, s, z, qmin, qmax);
    out.set(rt.heap.subarray(0, m), start);
  }
  return out;
}
