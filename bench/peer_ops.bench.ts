// fp32 GEMM and conv throughput of the engine's SIMD128 kernels next to the peers, measured in the same run:
// tfjs wasm (XNNPACK, single thread), tfjs cpu (plain JS), onnxruntime-node (MLAS) with 1 and 2 intra-op
// threads; plus the engine's int8 kernels on the same shapes (int8 / fp32 is the issue's >= 1.5x target).
// GEMM: the ViT shapes (ViT-B/16 at batch 1 and the CIFAR ViT), c [M, N] = a [M, K] b [K, N], b a constant.
// Conv: ResNet-20's 3x3 convs at batch 64, pad 1, no bias; engine and onnxruntime NCHW, tfjs NHWC (its layout).
// Rates: single-thread columns from process CPU time (robust to a loaded machine), timed interleaved (see
// timeCase) so that load changes hit every engine alike; the 2-thread onnxruntime
// column and "ort 1T wall" from wall time. tfjs cpu runs 3 samples after 1 warm-up call, convs at batch 8.
import { qconv2dSimdInto, qgemmSimdInto } from "../src/quant/kernels/simd/index.js";
import { conv2dSimd, conv2dSimdInto } from "../src/tensor/kernels/simd/conv.js";
import { gemmSimd } from "../src/tensor/kernels/simd/gemm.js";
import { Tensor } from "../src/tensor/tensor.js";
import { simdSupported } from "../src/wasm/features.js";
import { measure, measureInterleaved, pairedRatio } from "./peers/measure.js";
import { type ConvShape, convModel, convOut, gemmModel } from "./peers/onnx_graphs.js";
import type { OrtSession } from "./peers/ort.js";
import { type PeerHandles, loadPeers } from "./peers/load.js";
import { type TfjsPeer, nchwToNhwc, oihwToHwio } from "./peers/tfjs.js";
import { machine, mdTable } from "./util.js";

/** GFLOP/s of one op per engine (2 * multiply-adds per second); null where the peer or kernel was unavailable. */
export interface OpRates {
  zoa: number | null;
  /** Convs: the engine's API call, which returns a newly allocated output tensor (zoa: into a reused buffer). */
  zoaNewOutput: number | null;
  zoaInt8: number | null;
  tfjsWasm: number | null;
  tfjsCpu: number | null;
  ort1: number | null;
  ort2Wall: number | null;
  ort1Wall: number | null;
  /** Medians of the per-round ratios (measureInterleaved rounds): zoa fp32 over tfjs-wasm, zoa int8 over zoa fp32. */
  zoaOverTfjs: number | null;
  int8OverFp32: number | null;
}

export interface PeerOpRow extends OpRates {
  kind: "gemm" | "conv";
  name: string;
  /** GEMM M x N x K, or the conv as [N, C, H, H] -> K. */
  shape: string;
}

const GEMMS: readonly { name: string; M: number; N: number; K: number }[] = [
  { name: "ViT-B/16 attn proj", M: 197, N: 768, K: 768 },
  { name: "ViT-B/16 mlp fc2", M: 197, N: 768, K: 3072 },
  { name: "CIFAR ViT", M: 65, N: 128, K: 384 },
  { name: "CIFAR ViT", M: 65, N: 512, K: 128 },
];

const BATCH = 64;
const TFJS_CPU_BATCH = 8;
const CONVS: readonly (ConvShape & { name: string })[] = [
  { name: "stem 3->16 32x32", N: BATCH, C: 3, H: 32, K: 16, k: 3, stride: 1, pad: 1 },
  { name: "stage1 16->16 32x32", N: BATCH, C: 16, H: 32, K: 16, k: 3, stride: 1, pad: 1 },
  { name: "stage2 16->32 /2", N: BATCH, C: 16, H: 32, K: 32, k: 3, stride: 2, pad: 1 },
  { name: "stage2 32->32 16x16", N: BATCH, C: 32, H: 16, K: 32, k: 3, stride: 1, pad: 1 },
  { name: "stage3 32->64 /2", N: BATCH, C: 32, H: 16, K: 64, k: 3, stride: 2, pad: 1 },
  { name: "stage3 64->64 8x8", N: BATCH, C: 64, H: 8, K: 64, k: 3, stride: 1, pad: 1 },
];

const FAST = { runs: 7, warmupMs: 300, minSampleMs: 30 };
const SLOW = { runs: 3, warmupMs: 0, warmupCalls: 1, minSampleMs: 0 };

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function codes(n: number, seed: number, signed: boolean): Uint8Array | Int8Array {
  const u = Uint8Array.from(values(n, seed), (v) => Math.floor((v + 1) * 127.5));
  return signed ? new Int8Array(u.buffer) : u;
}

const rate = (flop: number, ms: number): number => flop / ms / 1e6;

/** What one shape offers to time: the engine's calls and the peers' setups (each returns its call, or throws). */
interface OpCase {
  flop: number;
  zoa: (() => unknown) | null;
  zoaNewOutput: (() => unknown) | null;
  zoaInt8: (() => unknown) | null;
  /** tfjs call on the active backend for `batch` images (convs) or the whole GEMM; returns a disposer too. */
  tfjs: ((tf: TfjsPeer["tf"], slow: boolean) => { call: () => unknown; dispose: () => void; flop: number }) | null;
  ort: { model: Uint8Array; input: string; data: Float32Array; dims: number[] } | null;
}

async function ortSession(p: PeerHandles, c: NonNullable<OpCase["ort"]>, threads: number): Promise<OrtSession | null> {
  if (!p.ort) return null;
  try {
    const s = await p.ort.session(c.model, threads);
    s.bind(c.input, c.data, c.dims);
    return s;
  } catch (e) {
    return p.skip(`onnxruntime-node (${threads} thread${threads > 1 ? "s" : ""})`, e);
  }
}

/**
 * Round 1 interleaves the single-thread calls (engine fp32, engine int8, tfjs-wasm, onnxruntime 1 thread) and
 * reads CPU time; round 2 interleaves onnxruntime 1 and 2 threads and reads wall time (the 2-thread gain;
 * kept apart because idle pool threads spin for a while and would bill their CPU time to the next call);
 * tfjs-cpu runs last, alone.
 */
async function timeCase(p: PeerHandles, c: OpCase): Promise<OpRates> {
  const out: OpRates = { zoa: null, zoaNewOutput: null, zoaInt8: null, tfjsWasm: null, tfjsCpu: null, ort1: null, ort2Wall: null, ort1Wall: null, zoaOverTfjs: null, int8OverFp32: null };
  const calls: Record<string, () => unknown> = {};
  if (c.zoa) calls.zoa = c.zoa;
  if (c.zoaInt8) calls.zoaInt8 = c.zoaInt8;
  let wasm: ReturnType<NonNullable<OpCase["tfjs"]>> | null = null;
  if (c.tfjs && p.tfjs?.available.wasm === true) {
    try {
      await p.tfjs.use("wasm");
      wasm = c.tfjs(p.tfjs.tf, false);
      calls.tfjsWasm = wasm.call;
    } catch (e) {
      p.skip("tfjs-wasm", e);
    }
  }
  const ort1 = c.ort ? await ortSession(p, c.ort, 1) : null;
  if (ort1) calls.ort1 = () => ort1.run();
  const t = await measureInterleaved(calls, FAST);
  if (t.zoa) out.zoa = rate(c.flop, t.zoa.cpuMs);
  if (t.zoaInt8) out.zoaInt8 = rate(c.flop, t.zoaInt8.cpuMs);
  if (t.tfjsWasm && wasm) out.tfjsWasm = rate(wasm.flop, t.tfjsWasm.cpuMs);
  if (t.ort1) out.ort1 = rate(c.flop, t.ort1.cpuMs);
  // zoa rate / tfjs rate = (t_tfjs / t_zoa) * (zoa flop / tfjs flop); the flop are the same (only tfjs-cpu runs a smaller batch)
  if (t.zoa && t.tfjsWasm && wasm) out.zoaOverTfjs = pairedRatio(t.tfjsWasm, t.zoa) * (c.flop / wasm.flop);
  if (t.zoa && t.zoaInt8) out.int8OverFp32 = pairedRatio(t.zoa, t.zoaInt8);
  wasm?.dispose();
  // on its own, after the others: the fresh output it allocates per call leaves garbage whose (background) collection
  // would be billed to whichever case's process CPU time came next
  if (c.zoaNewOutput) out.zoaNewOutput = rate(c.flop, (await measure(c.zoaNewOutput, FAST)).cpuMs);
  const ort2 = c.ort ? await ortSession(p, c.ort, 2) : null;
  if (ort1 && ort2) {
    const w = await measureInterleaved({ one: () => ort1.run(), two: () => ort2.run() }, FAST);
    out.ort1Wall = rate(c.flop, w.one.wallMs);
    out.ort2Wall = rate(c.flop, w.two.wallMs);
  }
  await ort1?.release();
  await ort2?.release();
  if (c.tfjs && p.tfjs?.available.cpu === true) {
    try {
      await p.tfjs.use("cpu");
      const cpu = c.tfjs(p.tfjs.tf, true);
      out.tfjsCpu = rate(cpu.flop, (await measure(cpu.call, SLOW)).cpuMs);
      cpu.dispose();
    } catch (e) {
      p.skip("tfjs-cpu", e);
    }
  }
  return out;
}

async function gemmRow(p: PeerHandles, g: (typeof GEMMS)[number]): Promise<PeerOpRow> {
  const { M, N, K } = g;
  const flop = 2 * M * N * K;
  const a = values(M * K, 1);
  const b = values(K * N, 2);
  process.stderr.write(`peer ops: gemm ${M}x${N}x${K}\n`);
  const c: OpCase = { flop, zoa: null, zoaNewOutput: null, zoaInt8: null, tfjs: null, ort: { model: gemmModel(M, N, K, b), input: "a", data: a, dims: [M, K] } };
  if (simdSupported()) {
    const out = new Float32Array(M * N);
    const av = { data: a, offset: 0, rowStride: K, colStride: 1 };
    const bv = { data: b, offset: 0, rowStride: N, colStride: 1 };
    c.zoa = () => gemmSimd(M, N, K, av, bv, out, 0, N);
    const qa = codes(M * K, 3, false);
    const qb = codes(N * K, 4, true);
    const bias = new Int32Array(N);
    const ci = new Int32Array(M * N);
    const qp = { m: M, n: N, k: K, transposeB: true, aZeroPoint: 3, bZeroPoint: new Int32Array(N) };
    c.zoaInt8 = () => qgemmSimdInto(qa, qb, bias, qp, ci);
  }
  c.tfjs = (tf) => {
    const ta = tf.tensor2d(a, [M, K]);
    const tb = tf.tensor2d(b, [K, N]);
    // tfjs kernels on the wasm and cpu backends run synchronously inside the op call
    return { call: () => tf.matMul(ta, tb).dispose(), dispose: () => tf.dispose([ta, tb]), flop };
  };
  return { kind: "gemm", name: g.name, shape: `${M}x${N}x${K}`, ...(await timeCase(p, c)) };
}

async function convRow(p: PeerHandles, s: (typeof CONVS)[number]): Promise<PeerOpRow> {
  const OH = convOut(s);
  const flopOf = (n: number) => 2 * n * OH * OH * s.K * s.C * s.k * s.k;
  const x = values(s.N * s.C * s.H * s.H, 5);
  const w = values(s.K * s.C * s.k * s.k, 6);
  process.stderr.write(`peer ops: conv ${s.name}\n`);
  const c: OpCase = { flop: flopOf(s.N), zoa: null, zoaNewOutput: null, zoaInt8: null, tfjs: null, ort: { model: convModel(s, w), input: "x", data: x, dims: [s.N, s.C, s.H, s.H] } };
  const pair = (v: number): [number, number] => [v, v];
  if (simdSupported()) {
    const xt = new Tensor([s.N, s.C, s.H, s.H], x);
    const wt = new Tensor([s.K, s.C, s.k, s.k], w);
    const attrs = { stride: pair(s.stride), padding: pair(s.pad), dilation: pair(1), groups: 1, outShape: [s.N, s.K, OH, OH] };
    const out = new Float32Array(s.N * s.K * OH * OH);
    c.zoa = () => conv2dSimdInto({ x: xt, w: wt, bias: null }, attrs, out);
    c.zoaNewOutput = () => conv2dSimd({ x: xt, w: wt, bias: null }, attrs);
    const qx = codes(x.length, 7, false);
    const qw = codes(w.length, 8, true);
    const qp = {
      inputShape: [s.N, s.C, s.H, s.H] as const,
      weightShape: [s.K, s.C, s.k, s.k] as const,
      stride: pair(s.stride),
      padding: pair(s.pad),
      dilation: pair(1),
      groups: 1,
      xZeroPoint: 3,
      wZeroPoint: new Int32Array(s.K),
    };
    const qy = new Int32Array(s.N * s.K * OH * OH);
    c.zoaInt8 = () => qconv2dSimdInto(qx, qw, null, qp, qy);
  }
  const filter = oihwToHwio(w, s.K, s.C, s.k, s.k);
  const nhwc = nchwToNhwc(x, s.N, s.C, s.H, s.H);
  c.tfjs = (tf, slow) => {
    const n = slow ? TFJS_CPU_BATCH : s.N;
    const tx = tf.tensor4d(nhwc.subarray(0, n * s.H * s.H * s.C), [n, s.H, s.H, s.C]);
    const tw = tf.tensor4d(filter, [s.k, s.k, s.C, s.K]);
    return { call: () => tf.conv2d(tx, tw, s.stride, s.pad).dispose(), dispose: () => tf.dispose([tx, tw]), flop: flopOf(n) };
  };
  return { kind: "conv", name: s.name, shape: `[${s.N}, ${s.C}, ${s.H}, ${s.H}] -> ${s.K}${s.stride > 1 ? ` /${s.stride}` : ""}`, ...(await timeCase(p, c)) };
}

export async function benchPeerOps(peers?: PeerHandles): Promise<PeerOpRow[]> {
  const p = peers ?? (await loadPeers());
  const rows: PeerOpRow[] = [];
  for (const g of GEMMS) rows.push(await gemmRow(p, g));
  for (const c of CONVS) rows.push(await convRow(p, c));
  return rows;
}

const f = (x: number | null, d = 1): string => (x === null ? "-" : x.toFixed(d));
const times = (x: number | null): string => (x === null ? "-" : `${x.toFixed(2)}x`);
const ratio = (a: number | null, b: number | null): string => times(a === null || b === null ? null : a / b);

export function peerOpsTable(rows: readonly PeerOpRow[]): string {
  return mdTable(
    ["op", "shape", "zoa-ts SIMD fp32", "zoa-ts new output", "tfjs-wasm", "tfjs-cpu", "ort 1T", "zoa / tfjs-wasm", "zoa / ort 1T", "ort 1T wall", "ort 2T wall", "zoa int8", "int8 / fp32"],
    rows.map((r) => [
      r.name,
      r.shape,
      f(r.zoa),
      f(r.zoaNewOutput),
      f(r.tfjsWasm),
      f(r.tfjsCpu, 2),
      f(r.ort1),
      times(r.zoaOverTfjs),
      ratio(r.zoa, r.ort1),
      f(r.ort1Wall),
      f(r.ort2Wall),
      f(r.zoaInt8),
      times(r.int8OverFp32),
    ]),
  );
}

export const PEER_OPS_NOTE =
  "GFLOP/s (int8: GOP/s), medians of 7 samples (>= 30 ms each) after >= 300 ms warm-up; the single-thread columns are timed interleaved, from process CPU time; " +
  `"wall" columns from wall time (the 2-thread gain is ort 2T wall / ort 1T wall). tfjs-cpu: 3 samples after one warm-up call, convs at batch ${TFJS_CPU_BATCH} instead of ${BATCH}. ` +
  "Convs: engine and onnxruntime NCHW, tfjs NHWC; the engine writes into a reused output buffer (as the GEMM rows, and as tfjs-wasm reuses its heap), " +
  '"zoa / tfjs-wasm" and "int8 / fp32": medians of the 7 per-round ratios (each round times every case once, in turn). ' +
  '"zoa-ts new output" times the API call that allocates its output tensor (first-touch page faults of fresh memory, costly on this VM when loaded), on its own after the others (its garbage would bill GC work to the next case\'s CPU time); ' +
  "int8 = the engine's uint8 x int8 -> int32 kernels (no output stage) on the same shapes, also into a reused buffer (convs: qconv2dSimdInto, im2col + packing included).";

async function main(): Promise<void> {
  console.log(`machine: ${machine()}; wasm SIMD128: ${simdSupported()}`);
  console.log(`\n${peerOpsTable(await benchPeerOps())}\n\n${PEER_OPS_NOTE}`);
}

// Only when run directly: inside the dist/bench.js bundle import.meta.url is the bundle's own URL.
if (/\/peer_ops\.bench\.[tj]s$/.test(process.argv[1] ?? "")) await main();
