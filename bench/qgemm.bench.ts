// int8 GEMM throughput: plain-TypeScript qgemmFast vs the WebAssembly SIMD128 int8 GEMM (qgemmSimd) vs the engine's
// own fp32 SIMD128 GEMM (gemmSimd) on the same M x N x K, for the GEMMs of ResNet-20 (convs as im2col GEMMs per
// image: M = pixels, N = out channels, K = Cin*9) and of ViTs (ViT-B/16 and a CIFAR ViT at batch 1). The target is
// int8 >= 1.5x fp32. A = uint8 activation codes (zero point 3), B = int8 weights [N, K] with per-channel zero
// points 0 (fp32: the same [N, K] layout as a transposed view), int32 bias. gemmSimd writes into a preallocated C; so
// does qgemmSimdInto ("int8 into", the like-for-like kernel comparison), while qgemmSimd / qgemmFast allocate their
// Int32Array result (the API returns one; where page faults are slow, e.g. in some sandboxes, that costs up to ~1/3
// on small-K shapes; MALLOC_TRIM_THRESHOLD_=2000000000 MALLOC_MMAP_THRESHOLD_=1000000000 removes it under glibc).
// Also the whole ResNet-20 conv layers (16 images, NCHW) through qconv2dFast, qconv2dSimd (API) and qconv2dSimdInto,
// and the fp32 conv2dSimdInto (both "into" calls write into a reused output, the like-for-like pair).
// Run: npx tsx bench/qgemm.bench.ts. Median GOP/s (2*M*N*K per second) of RUNS timed runs after warm-up; one thread;
// the SIMD calls of a row timed in turn (interleaved), int8/fp32 the median of the per-round ratios.
// Time is the process's CPU time (user + system), which a preempting neighbour on a shared machine does not inflate
// (bench/peers/measure.ts, as the peer benches).
import { qconv2dFast } from "../src/quant/kernels/cpu/qconv2d.js";
import { qgemmFast } from "../src/quant/kernels/cpu/qgemm.js";
import { qconv2dSimd, qconv2dSimdInto, qgemmSimd, qgemmSimdInto } from "../src/quant/kernels/simd/index.js";
import { conv2dSimdInto } from "../src/tensor/kernels/simd/conv.js";
import { gemmSimd } from "../src/tensor/kernels/simd/gemm.js";
import { Tensor } from "../src/tensor/tensor.js";
import { simdSupported } from "../src/wasm/features.js";
import { type Timing, measure, measureInterleaved, pairedRatio } from "./peers/measure.js";
import { machine } from "./util.js";

export interface Row {
  name: string;
  M: number;
  N: number;
  K: number;
  /** Median GOP/s; null where skipped (JS above JS_MAX_OPS, SIMD without SIMD128). */
  js: number | null;
  /** The API call (allocates its result). */
  int8: number | null;
  /** Into a preallocated C (GEMM) or output (conv), as fp32. */
  int8Into: number | null;
  fp32: number | null;
  /** int8 / fp32, like for like (int8Into where measured, else int8): the median of the per-round ratios. */
  ratio: number | null;
}

const GEMM_SHAPES: readonly { name: string; M: number; N: number; K: number }[] = [
  { name: "ResNet-20 stage1 conv", M: 1024, N: 16, K: 144 },
  { name: "ResNet-20 stage2 conv", M: 256, N: 32, K: 288 },
  { name: "ResNet-20 stage3 conv", M: 64, N: 64, K: 576 },
  { name: "ViT-B/16 attn proj", M: 197, N: 768, K: 768 },
  { name: "ViT-B/16 mlp fc1", M: 197, N: 3072, K: 768 },
  { name: "CIFAR ViT qkv", M: 65, N: 384, K: 128 },
  { name: "CIFAR ViT mlp fc1", M: 65, N: 512, K: 128 },
  { name: "CIFAR ViT mlp fc2", M: 65, N: 128, K: 512 },
];

/** ResNet-20's 3x3 conv layers (the stem and one of each stage's), [N, C, H, W] -> K out channels, stride s. */
const CONV_SHAPES: readonly { name: string; N: number; C: number; H: number; K: number; stride: number }[] = [
  { name: "stem 3->16 32x32", N: 16, C: 3, H: 32, K: 16, stride: 1 },
  { name: "stage1 16->16 32x32", N: 16, C: 16, H: 32, K: 16, stride: 1 },
  { name: "stage2 16->32 /2", N: 16, C: 16, H: 32, K: 32, stride: 2 },
  { name: "stage2 32->32 16x16", N: 16, C: 32, H: 16, K: 32, stride: 1 },
  { name: "stage3 64->64 8x8", N: 16, C: 64, H: 8, K: 64, stride: 1 },
];

const JS_MAX_OPS = 1e8; // skip the JS kernel above this (it runs at ~1 GOP/s)
const RUNS = 7;
/** peers/measure.ts options: RUNS samples of >= 15 ms each after >= 250 ms of warm-up (V8 tiers wasm up meanwhile). */
const TIMING = { runs: RUNS, warmupMs: 250, minSampleMs: 15 };

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

/**
 * One table row: the JS kernel on its own (slow), then the SIMD int8 and fp32 calls timed in turn (interleaved
 * rounds, so a load change hits all alike); the ratio is the median of the per-round ratios.
 */
async function row(name: string, M: number, N: number, K: number, ops: number, calls: { js: () => void; int8: (() => void) | null; int8Into: (() => void) | null; fp32: (() => void) | null }): Promise<Row> {
  const gops = (t: Timing | undefined): number | null => (t ? ops / t.cpuMs / 1e6 : null);
  const js = ops <= JS_MAX_OPS ? gops(await measure(calls.js, TIMING)) : null;
  // the API call allocates its result: where it is not the like-for-like one, on its own (its garbage would bill
  // GC work to the next call's CPU time)
  const int8Api = calls.int8 && calls.int8Into ? gops(await measure(calls.int8, TIMING)) : null;
  const timed: Record<string, () => unknown> = {};
  if (calls.int8Into) timed.int8 = calls.int8Into;
  else if (calls.int8) timed.int8 = calls.int8;
  if (calls.fp32) timed.fp32 = calls.fp32;
  const t = await measureInterleaved(timed, TIMING);
  const ratio = t.int8 && t.fp32 ? pairedRatio(t.fp32, t.int8) : null;
  return { name, M, N, K, js, int8: calls.int8Into ? int8Api : gops(t.int8), int8Into: calls.int8Into ? gops(t.int8) : null, fp32: gops(t.fp32), ratio };
}

export async function benchQGemm(): Promise<Row[]> {
  const simd = simdSupported();
  const rows: Row[] = [];
  for (const { name, M, N, K } of GEMM_SHAPES) {
    const rnd = lcg(M * 7919 + N * 31 + K);
    const a = Uint8Array.from({ length: M * K }, () => rnd() & 255);
    const b = Int8Array.from({ length: N * K }, () => (rnd() & 255) - 128);
    const bias = Int32Array.from({ length: N }, () => (rnd() & 0xffff) - 0x8000);
    const p = { m: M, n: N, k: K, transposeB: true, aZeroPoint: 3, bZeroPoint: new Int32Array(N) };
    const fa = Float32Array.from(a, (v) => v / 255);
    const fb = Float32Array.from(b, (v) => v / 128);
    const fc = new Float32Array(M * N);
    const c = new Int32Array(M * N);
    const av = { data: fa, offset: 0, rowStride: K, colStride: 1 };
    const bv = { data: fb, offset: 0, rowStride: 1, colStride: K }; // B^T view of the [N, K] weights
    rows.push(
      await row(name, M, N, K, 2 * M * N * K, {
        js: () => qgemmFast(a, b, bias, p),
        int8: simd ? () => qgemmSimd(a, b, bias, p) : null,
        int8Into: simd ? () => qgemmSimdInto(a, b, bias, p, c) : null,
        fp32: simd ? () => gemmSimd(M, N, K, av, bv, fc, 0, N) : null,
      }),
    );
  }
  return rows;
}

/** Whole conv layers (GEMM-equivalent GOP/s: 2 * N*OH*OW * K * C*9 per second). */
export async function benchQConv(): Promise<Row[]> {
  const simd = simdSupported();
  const rows: Row[] = [];
  for (const { name, N, C, H, K, stride } of CONV_SHAPES) {
    const rnd = lcg(N * C * H + K);
    const x = Uint8Array.from({ length: N * C * H * H }, () => rnd() & 255);
    const w = Int8Array.from({ length: K * C * 9 }, () => (rnd() & 255) - 128);
    const bias = Int32Array.from({ length: K }, () => (rnd() & 0xffff) - 0x8000);
    const OH = Math.floor((H + 2 - 3) / stride) + 1;
    const p = {
      inputShape: [N, C, H, H] as const,
      weightShape: [K, C, 3, 3] as const,
      stride: [stride, stride] as const,
      padding: [1, 1] as const,
      dilation: [1, 1] as const,
      groups: 1,
      xZeroPoint: 3,
      wZeroPoint: new Int32Array(K),
    };
    const y = new Int32Array(N * K * OH * OH);
    const fy = new Float32Array(N * K * OH * OH);
    const xt = new Tensor([N, C, H, H], Float32Array.from(x, (v) => v / 255));
    const wt = new Tensor([K, C, 3, 3], Float32Array.from(w, (v) => v / 128));
    const bt = new Tensor([K], Float32Array.from(bias, (v) => v / 65536));
    const attrs = { stride: [stride, stride] as [number, number], padding: [1, 1] as [number, number], dilation: [1, 1] as [number, number], groups: 1, outShape: [N, K, OH, OH] as [number, number, number, number] };
    const ops = 2 * N * OH * OH * K * C * 9;
    rows.push(
      await row(name, N * OH * OH, K, C * 9, ops, {
        js: () => qconv2dFast(x, w, bias, p),
        int8: simd ? () => qconv2dSimd(x, w, bias, p) : null,
        int8Into: simd ? () => qconv2dSimdInto(x, w, bias, p, y) : null,
        fp32: simd ? () => conv2dSimdInto({ x: xt, w: wt, bias: bt }, attrs, fy) : null,
      }),
    );
  }
  return rows;
}

function fmt(x: number | null, d = 1): string {
  return x === null ? "-" : x.toFixed(d);
}

function print(title: string, rows: Row[]): void {
  console.log(`\n${title}: GOP/s, median of ${RUNS} runs`);
  const head = ["shape".padEnd(22), "M x N x K".padEnd(15), "JS int8", "SIMD int8", "int8 into", "SIMD fp32", "int8/fp32"];
  console.log(head.map((h, i) => (i < 2 ? h : h.padStart(9))).join(" "));
  for (const r of rows) {
    const ratio = r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`;
    const cells = [fmt(r.js), fmt(r.int8), fmt(r.int8Into), fmt(r.fp32), ratio];
    console.log([r.name.padEnd(22), `${r.M}x${r.N}x${r.K}`.padEnd(15), ...cells.map((x) => x.padStart(9))].join(" "));
  }
}

async function main(): Promise<void> {
  console.log(`machine: ${machine()}; wasm SIMD128: ${simdSupported()}; single thread`);
  print("GEMM (qgemm API: A [M, K] uint8, B [N, K] int8, bias)", await benchQGemm());
  print("ResNet-20 conv layers, 16 images (M = N*OH*OW, N = out channels, K = Cin*9)", await benchQConv());
}

// Only when run directly: inside the dist/bench.js bundle import.meta.url is the bundle's own URL.
if (/\/qgemm\.bench\.[tj]s$/.test(process.argv[1] ?? "")) await main();
