// The integer SIMD kernels' one WebAssembly instance: qgemm_kernel.ts + qconv2d_kernel.ts, emitted at first use, on
// its own imported, growable memory (separate from the fp32 backend's, so neither invalidates the other's
// views). Single-threaded and reused across calls; memory only grows. Byte addresses throughout.
import { simdSupported } from "../../../wasm/features.js";
import { ModuleBuilder } from "../../../wasm/module.js";
import { type AccStatsFn, addAccStatsFunctions } from "./acc_stats_kernel.js";
import { type QConvExports, addQConvFunctions } from "./qconv2d_kernel.js";
import { addQEpilogueFunctions } from "./qepilogue_kernel.js";
import { type QWinogradExports, addQWinogradFunctions } from "./qwinograd_kernel.js";
import { type QGemmExports, addQGemmFunctions } from "./qgemm_kernel.js";

export interface QSimdRuntime {
  memory: WebAssembly.Memory;
  /** Views of memory.buffer; refreshed by ensureBytes (growing detaches the old buffer). */
  u8: Uint8Array;
  i32: Int32Array;
  i16: Int16Array;
  k: QGemmExports & QConvExports & QWinogradExports & { accStats: AccStatsFn };
  /** The fused output stages (qepilogue_kernel.ts), by export name; each takes a descriptor address. */
  epilogue: ReadonlyMap<string, (desc: number) => void>;
}

const MEMORY_IMPORT = { module: "env", name: "memory" } as const;
const PAGE = 65536;

let runtime: QSimdRuntime | null = null;

export function emitQSimdModule(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ ...MEMORY_IMPORT, initial: 1 });
  addQGemmFunctions(m);
  addQConvFunctions(m);
  addQEpilogueFunctions(m);
  addQWinogradFunctions(m);
  addAccStatsFunctions(m);
  return m.build();
}

/** The instance, created on first use. */
export function getQRuntime(): QSimdRuntime {
  if (runtime) return runtime;
  if (!simdSupported()) throw new Error("integer simd kernels: WebAssembly SIMD128 is not supported by this engine");
  const memory = new WebAssembly.Memory({ initial: 1 });
  const module = new WebAssembly.Module(emitQSimdModule());
  const e = new WebAssembly.Instance(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } }).exports;
  const fn = <T>(name: string): T => e[name] as unknown as T;
  runtime = {
    memory,
    u8: new Uint8Array(memory.buffer),
    i32: new Int32Array(memory.buffer),
    i16: new Int16Array(memory.buffer),
    k: {
      block: fn("qblock"),
      packRowsA: [fn("packRowsA_s"), fn("packRowsA_u")],
      packRowsB: [fn("packRowsB_s"), fn("packRowsB_u")],
      packColsB: [fn("packColsB_s"), fn("packColsB_u")],
      convRows1: fn("convRows1"),
      convRows2: fn("convRows2"),
      convGather: fn("convGather"),
      padCopy: fn("padCopy"),
      copyRows: fn("copyRows"),
      wgInput: fn("wgInput"),
      wgOutput: fn("wgOutput"),
      accStats: fn("accStats"),
    },
    epilogue: new Map(Object.keys(e).filter((n) => n.startsWith("qepi_")).map((n) => [n, fn<(desc: number) => void>(n)])),
  };
  return runtime;
}

/** Grows the memory to at least `bytes` bytes and refreshes the views. */
export function ensureBytes(rt: QSimdRuntime, bytes: number): void {
  const have = rt.memory.buffer.byteLength;
  if (bytes > have) rt.memory.grow(Math.ceil((bytes - have) / PAGE));
  if (rt.u8.buffer !== rt.memory.buffer) {
    rt.u8 = new Uint8Array(rt.memory.buffer);
    rt.i32 = new Int32Array(rt.memory.buffer);
    rt.i16 = new Int16Array(rt.memory.buffer);
  }
}

/** A bump allocator over wasm memory: 64-byte aligned regions from `start`; `end` is the first free byte. */
export class Arena {
  end: number;
  constructor(start = 0) {
    this.end = start;
  }
  take(bytes: number): number {
    const at = Math.ceil(this.end / 64) * 64;
    this.end = at + bytes;
    return at;
  }
}
