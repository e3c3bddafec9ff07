// fp32 GEMM throughput: naive triple loop vs plain-TypeScript packed GEMM vs WebAssembly SIMD128 GEMM,
// on the GEMM shapes of the models we run (ViT-B/16 and a CIFAR ViT at batch 1, ResNet-20 convs per image).
// Run: npx tsx bench/gemm.bench.ts. Reports the median GFLOP/s over >= 5 timed runs after warm-up; single thread.
import os from "node:os";
import { type Gemm, type MatView, gemmNaive, gemmPacked } from "../src/tensor/kernels/cpu/gemm.js";
import { gemmSimd } from "../src/tensor/kernels/simd/gemm.js";
import { relaxedSimdSupported, simdSupported } from "../src/wasm/features.js";

export interface Row {
  name: string;
  M: number;
  N: number;
  K: number;
  /** Median GFLOP/s; null where skipped (naive on large shapes). */
  naive: number | null;
  packed: number;
  simd: number | null;
  /** Best run's GFLOP/s (the least disturbed by other processes on a shared machine). */
  packedBest: number;
  simdBest: number | null;
}

const SHAPES: readonly { name: string; M: number; N: number; K: number }[] = [
  { name: "ViT-B/16 attn proj", M: 197, N: 768, K: 768 },
  { name: "ViT-B/16 mlp fc2", M: 197, N: 768, K: 3072 },
  { name: "CIFAR ViT", M: 65, N: 128, K: 384 },
  { name: "CIFAR ViT", M: 65, N: 512, K: 128 },
  { name: "ResNet-20 stage1 conv", M: 16, N: 1024, K: 144 },
  { name: "ResNet-20 stage2 conv", M: 32, N: 256, K: 288 },
  { name: "ResNet-20 stage3 conv", M: 64, N: 64, K: 576 },
];

const NAIVE_MAX_FLOP = 1e8; // skip the naive loop above this (it runs at ~1 GFLOP/s)
const RUNS = 15;
const MIN_SAMPLE_MS = 10; // repeat the call within one timed run until it lasts this long
const WARMUP_MS = 300;

function randomView(rows: number, cols: number, seed: number): MatView {
  const data = new Float32Array(rows * cols);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return { data, offset: 0, rowStride: cols, colStride: 1 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Median and best GFLOP/s of gemm on (M, N, K). */
function measure(gemm: Gemm, M: number, N: number, K: number): { median: number; best: number } {
  const a = randomView(M, K, 1);
  const b = randomView(K, N, 2);
  const c = new Float32Array(M * N);
  const flop = 2 * M * N * K;
  const call = (): void => gemm(M, N, K, a, b, c, 0, N);
  // warm-up: at least WARMUP_MS of calls (V8 first runs wasm on its baseline compiler, Liftoff, and
  // tiers hot functions up to TurboFan in the background), then choose the repetitions per run
  for (const t0 = performance.now(); performance.now() - t0 < WARMUP_MS; ) call();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) call();
    const dt = performance.now() - t0;
    if (dt >= MIN_SAMPLE_MS) break;
    reps = Math.max(reps * 2, Math.ceil((reps * MIN_SAMPLE_MS) / Math.max(dt, 1e-3)));
  }
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) call();
    const dt = (performance.now() - t0) / 1000;
    rates.push((flop * reps) / dt / 1e9);
  }
  return { median: median(rates), best: Math.max(...rates) };
}

export async function benchGemm(): Promise<Row[]> {
  const rows: Row[] = [];
  const simd = simdSupported();
  for (const { name, M, N, K } of SHAPES) {
    const naive = 2 * M * N * K <= NAIVE_MAX_FLOP ? measure(gemmNaive, M, N, K).median : null;
    const packed = measure(gemmPacked, M, N, K);
    const s = simd ? measure(gemmSimd, M, N, K) : null;
    rows.push({ name, M, N, K, naive, packed: packed.median, simd: s?.median ?? null, packedBest: packed.best, simdBest: s?.best ?? null });
  }
  return rows;
}

function fmt(x: number | null): string {
  return x === null ? "-" : x.toFixed(1);
}

async function main(): Promise<void> {
  console.log(`machine: ${os.cpus()[0]?.model ?? "unknown"} (${os.cpus().length} cpus), node ${process.version}`);
  console.log(`wasm SIMD128: ${simdSupported()}, relaxed SIMD (f32x4.relaxed_madd): ${relaxedSimdSupported()}; single thread`);
  const rows = await benchGemm();
  console.log(`GFLOP/s: median of ${RUNS} runs (best run in parentheses)`);
  const head = ["shape".padEnd(22), "M x N x K".padEnd(13), "naive".padStart(6), "packed".padStart(13), "simd".padStart(13), "simd/packed".padStart(11)];
  console.log(head.join(" "));
  for (const r of rows) {
    const ratio = r.simd === null ? "-" : `${(r.simd / r.packed).toFixed(1)}x`;
    const packed = `${fmt(r.packed)} (${fmt(r.packedBest)})`;
    const simd = `${fmt(r.simd)} (${fmt(r.simdBest)})`;
    console.log([r.name.padEnd(22), `${r.M}x${r.N}x${r.K}`.padEnd(13), fmt(r.naive).padStart(6), packed.padStart(13), simd.padStart(13), ratio.padStart(11)].join(" "));
  }
}

// Only when run directly: inside the dist/bench.js bundle import.meta.url is the bundle's own URL.
if (/\/gemm\.bench\.[tj]s$/.test(process.argv[1] ?? "")) await main();
