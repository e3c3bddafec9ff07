// The simd backend's one WebAssembly instance: a module emitted at first use (GEMM macro-kernel, packers,
// im2col) on one imported, growable memory that JS views as a Float32Array. Single-threaded, reused
// across calls; memory only grows (wasm memories cannot shrink).
import { relaxedSimdSupported, simdSupported } from "../../../wasm/features.js";
import { ModuleBuilder } from "../../../wasm/module.js";
import { type CompactRowsFn, type ConvTilesFn, type PadSplitFn, emitCompactRows, emitConvTiles, emitPadSplit } from "./conv_direct_kernel.js";
import { type Im2colFn, emitIm2colPacked, emitIm2colPacked4 } from "./conv_kernel.js";
import { type GemmExports, MR, NR, type TileShape, addGemmFunctions } from "./gemm_kernel.js";

export interface SimdRuntime {
  memory: WebAssembly.Memory;
  /** Views of memory.buffer; refreshed by ensureFloats (growing detaches the old buffer). */
  heap: Float32Array;
  heapI32: Int32Array;
  gemm: GemmExports;
  im2colPacked: Im2colFn;
  /** Stride 1, OW % 4 == 0, p0 % 4 == 0 only. */
  im2colPacked4: Im2colFn;
  /** Direct convolution (conv_direct_kernel.ts): the padded, stride-split input copy, the tile kernel, row compaction. */
  padSplit: PadSplitFn;
  convTiles: ConvTilesFn;
  compactRows: CompactRowsFn;
}

const MEMORY_IMPORT = { module: "env", name: "memory" } as const;
const PAGE = 65536;

let runtime: SimdRuntime | null = null;

export function emitSimdModule(tile: TileShape): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ ...MEMORY_IMPORT, initial: 1 });
  addGemmFunctions(m, tile);
  m.addFunction(emitIm2colPacked(), "im2colPacked");
  m.addFunction(emitIm2colPacked4(), "im2colPacked4");
  m.addFunction(emitPadSplit(), "padSplit");
  m.addFunction(emitConvTiles(tile), "convTiles");
  m.addFunction(emitCompactRows(), "compactRows");
  return m.build();
}

/** The instance, created on first use. */
export function getRuntime(): SimdRuntime {
  if (runtime) return runtime;
  if (!simdSupported()) throw new Error("simd backend: WebAssembly SIMD128 is not supported by this engine");
  const memory = new WebAssembly.Memory({ initial: 1 });
  const module = new WebAssembly.Module(emitSimdModule({ MR, NR, fma: relaxedSimdSupported() }));
  const e = new WebAssembly.Instance(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } }).exports;
  const fn = <T>(name: string): T => e[name] as unknown as T;
  runtime = {
    memory,
    heap: new Float32Array(memory.buffer),
    heapI32: new Int32Array(memory.buffer),
    gemm: {
      block: fn("block"),
      packContigA: fn("packContigA"),
      packTransA: fn("packTransA"),
      packContigB: fn("packContigB"),
      packTransB: fn("packTransB"),
    },
    im2colPacked: fn("im2colPacked"),
    im2colPacked4: fn("im2colPacked4"),
    padSplit: fn("padSplit"),
    convTiles: fn("convTiles"),
    compactRows: fn("compactRows"),
  };
  return runtime;
}

/** Grows the memory to at least `floats` floats (4 bytes each) and returns the current Float32Array view. */
export function ensureFloats(rt: SimdRuntime, floats: number): Float32Array {
  const have = rt.memory.buffer.byteLength;
  if (floats * 4 > have) rt.memory.grow(Math.ceil((floats * 4 - have) / PAGE));
  if (rt.heap.buffer !== rt.memory.buffer) {
    rt.heap = new Float32Array(rt.memory.buffer);
    rt.heapI32 = new Int32Array(rt.memory.buffer);
  }
  return rt.heap;
}
