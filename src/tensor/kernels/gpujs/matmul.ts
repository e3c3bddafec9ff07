// Batched matmul as one gpu.js kernel, one output element per thread:
//   out[bz, i, j] = sum_k A_bz(i, k) * B_bz(k, j),  A_bz(i, k) = a[offA[bz] + i*aI + k*aK],  B_bz(k, j) = b[offB[bz] + k*bK + j*bJ]
// M, N = output rows, cols; K = contracted dim; bz = broadcast batch index. Transposes and batch broadcasting
// are strides and per-batch offsets (computed here on the CPU), so inputs go up as they are. Output [x=N, y=M, z=batch].
// Float32 accumulation in K order on the GL backends (error ~ K * 2^-24 * sum |a b|); the cpu mode sums in float64.
// A product that fits one launch reads its operands where they are (textures stay on the GPU) and returns a
// device tensor on the GL backends; split products (planGemm) read host arrays and write a host tensor.
import type { KernelFn, KernelSpecs } from "../../backend.js";
import { sizeOf } from "../../shape.js";
import { Tensor } from "../../tensor.js";
import { batchOffsets } from "../cpu/matmul.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits, fits } from "./limits.js";
import type { GpujsRuntime, KernelThis } from "./runtime.js";

interface GemmConstants {
  K: number;
  aI: number;
  aK: number;
  bK: number;
  bJ: number;
}

/** Kernel body: thread (x, y, z) = (j, i, batch). */
export function gemmBody(this: KernelThis<GemmConstants>, a: Float32Array, b: Float32Array, offA: Float32Array, offB: Float32Array): number {
  const pa = offA[this.thread.z] + this.thread.y * this.constants.aI;
  const pb = offB[this.thread.z] + this.thread.x * this.constants.bJ;
  let acc = 0;
  for (let k = 0; k < this.constants.K; k++) {
    acc += a[pa + k * this.constants.aK] * b[pb + k * this.constants.bK];
  }
  return acc;
}

/** One kernel launch: `batches` whole [rows, N] blocks (or one batch's row range), written contiguously at outOffset. */
export interface Launch {
  a: Float32Array;
  offA: Float32Array;
  offB: Float32Array;
  rows: number;
  outOffset: number;
}

function gemmKey(rows: number, N: number, batches: number, c: GemmConstants, sizes: string): string {
  return `gemm|${rows},${N},${batches}|${c.K},${c.aI},${c.aK},${c.bK},${c.bJ}|${sizes}`;
}

/** Compiles (or reuses) the GEMM kernel for these sizes and strides and runs one split launch into `out`. */
export function runGemm(rt: GpujsRuntime, L: Launch, b: Float32Array, N: number, c: GemmConstants, out: Float32Array): void {
  const batches = L.offA.length;
  const key = gemmKey(L.rows, N, batches, c, `${L.a.length},${b.length}|h,h`);
  const k = rt.kernel(key, () => ({ body: gemmBody as never, settings: { output: [N, L.rows, batches], constants: { ...c } } }));
  rt.runInto(k, out, L.outOffset, L.a, b, L.offA, L.offB);
}

/**
 * Splits the product into launches whose arrays and outputs stay below MAX_GPU_ELEMENTS (exact float32
 * indices): whole batches while one [M, N] block fits, else row ranges of one batch; null when no split
 * keeps every index exact (then the caller runs the CPU kernel).
 */
export function planGemm(
  lim: GpuLimits,
  a: Float32Array,
  transposeA: boolean,
  M: number,
  N: number,
  K: number,
  aI: number,
  offA: readonly number[],
  offB: readonly number[],
): Launch[] | null {
  const launches: Launch[] = [];
  const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
  const perBatch = M * N;
  if (fits(lim, perBatch, a.length)) {
    const bc = Math.max(1, Math.floor((lim.elements - 1) / perBatch));
    for (let b0 = 0; b0 < offA.length; b0 += bc) {
      const b1 = Math.min(offA.length, b0 + bc);
      launches.push({ a, offA: f32(offA.slice(b0, b1)), offB: f32(offB.slice(b0, b1)), rows: M, outOffset: b0 * perBatch });
    }
    return launches;
  }
  // Row ranges of one batch at a time; A is cut into contiguous row blocks when it is itself too large.
  const cutA = !fits(lim, a.length);
  if (cutA && transposeA) return null;
  const rc = Math.floor((lim.elements - 1) / Math.max(N, cutA ? K : 1));
  if (rc < 1) return null;
  for (let bz = 0; bz < offA.length; bz++) {
    for (let r0 = 0; r0 < M; r0 += rc) {
      const r1 = Math.min(M, r0 + rc);
      const outOffset = bz * perBatch + r0 * N;
      if (cutA) {
        const start = offA[bz] + r0 * K;
        launches.push({ a: a.subarray(start, start + (r1 - r0) * K), offA: f32([0]), offB: f32([offB[bz]]), rows: r1 - r0, outOffset });
      } else {
        launches.push({ a, offA: f32([offA[bz] + r0 * aI]), offB: f32([offB[bz]]), rows: r1 - r0, outOffset });
      }
    }
  }
  return launches;
}

export function matmulGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"matmul">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"matmul"> {
  return (inputs: KernelSpecs["matmul"]["inputs"], attrs: KernelSpecs["matmul"]["attrs"]): Tensor => {
    const { a, b } = inputs;
    const { transposeA, transposeB, outShape } = attrs;
    const ra = a.rank;
    const rb = b.rank;
    const M = outShape[outShape.length - 2];
    const N = outShape[outShape.length - 1];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const size = sizeOf(outShape);
    if (size === 0 || K === 0) return new Tensor(outShape);
    if (!fits(lim, b.size)) return fallback(inputs, attrs);
    // Per-batch element offsets of each operand (0 stride on broadcast batch dims).
    const { offA, offB } = batchOffsets(a.shape, b.shape, outShape.slice(0, -2));
    const aCols = a.shape[ra - 1];
    const bCols = b.shape[rb - 1];
    const c: GemmConstants = {
      K,
      aI: transposeA ? 1 : aCols,
      aK: transposeA ? aCols : 1,
      bK: transposeB ? 1 : bCols,
      bJ: transposeB ? bCols : 1,
    };
    const runtime = rt();
    if (fits(lim, size, a.size)) {
      // One launch over every batch: operands as they are (textures or host arrays), output where the runtime keeps it.
      const batches = offA.length;
      const key = gemmKey(M, N, batches, c, `${a.size},${b.size}|${runtime.argKey(a, b)}`);
      const k = runtime.kernel(key, () => ({ body: gemmBody as never, settings: { output: [N, M, batches], constants: { ...c }, ...runtime.outputSettings } }));
      return runtime.run(k, outShape, runtime.arg(a), runtime.arg(b), Float32Array.from(offA), Float32Array.from(offB));
    }
    const launches = planGemm(lim, a.data, transposeA, M, N, K, c.aI, offA, offB);
    if (!launches) return fallback(inputs, attrs);
    const out = new Tensor(outShape);
    for (const L of launches) runGemm(runtime, L, b.data, N, c, out.data);
    return out;
  };
}
