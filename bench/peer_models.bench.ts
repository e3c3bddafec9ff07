// Whole-model inference next to the peers, in the same run: ResNet-20 (CIFAR-10), batch 64, on the first 64
// test images (normalised once, outside the timing). The engine runs fp32 on its simd backend and W8A8 with
// integer kernels (min-max PTQ on 32 images of data_batch_1), both through the fused integer ResNet pipeline
// (src/quant/fused, the default) and layer by layer (QuantizedModel.fuse = false); tfjs (wasm, cpu) and onnxruntime (1 and 2 intra-op
// threads) run the same network with BatchNorm folded (bench/peers/resnet_folded.ts). Each peer's logits are
// checked against the engine's fp32 logits: max |diff| must stay below LOGIT_TOL or the row is marked wrong.
// Single-thread images/s come from process CPU time, timed interleaved (engine fp32, engine W8A8 fused and layer by
// layer, tfjs-wasm, onnxruntime 1 thread) so load changes hit all alike; the 2-thread row from wall time (both columns printed).
import { normalizeBatch, readCifar } from "../src/data/cifar.js";
import { loadModel } from "../src/models/load.js";
import { calibrateModel, quantConfig } from "../src/quant/ptq.js";
import { QuantizedModel } from "../src/quant/qmodel.js";
import { getBackend } from "../src/tensor/backends.js";
import { type Timing, measure, measureInterleaved } from "./peers/measure.js";
import type { OrtSession } from "./peers/ort.js";
import { resnetModel } from "./peers/onnx_graphs.js";
import { foldCifarResNet } from "./peers/resnet_folded.js";
import { nchwToNhwc } from "./peers/tfjs.js";
import { type TfjsResNet, tfjsResNet } from "./peers/tfjs_resnet.js";
import { type PeerHandles, loadPeers } from "./peers/load.js";
import { mdTable } from "./util.js";

export const LOGIT_TOL = 1e-3;
const BATCH = 64;
const TFJS_CPU_BATCH = 8;
const FAST = { runs: 7, warmupCalls: 2, warmupMs: 500, minSampleMs: 0 };
const SLOW = { runs: 3, warmupCalls: 1, warmupMs: 0, minSampleMs: 0 };

export interface PeerModelRow {
  engine: string;
  precision: string;
  threads: number;
  batch: number;
  /** From CPU time (single thread) — null for multi-thread rows. */
  cpuIps: number | null;
  wallIps: number;
  /** Max |logit - engine fp32 logit| over the batch; null where not compared (quantized rows). */
  maxAbsDiff: number | null;
  /** false when maxAbsDiff >= LOGIT_TOL. */
  ok: boolean | null;
  /** 2-thread row only: the 1-thread session and the engine's W8A8 in the same wall-clock round. */
  wallOf1Thread?: number;
  engineW8a8Wall?: number;
}

export interface PeerModelReport {
  model: string;
  rows: PeerModelRow[];
  /** W8A8 integer images/s over each peer's (like-for-like clock), null where the peer is missing. */
  ratios: { name: string; value: number | null; want: string }[];
}

function maxAbsDiff(a: Float32Array, b: Float32Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function row(engine: string, precision: string, threads: number, batch: number, t: Timing, diff: number | null): PeerModelRow {
  return {
    engine,
    precision,
    threads,
    batch,
    cpuIps: threads === 1 ? batch / (t.cpuMs / 1000) : null,
    wallIps: batch / (t.wallMs / 1000),
    maxAbsDiff: diff,
    ok: diff === null ? null : diff < LOGIT_TOL,
  };
}

export async function benchPeerModels(opts: { shared: string; peers?: PeerHandles }): Promise<PeerModelReport> {
  const p = opts.peers ?? (await loadPeers());
  const model = loadModel(`${opts.shared}/models/resnet20-cifar10.safetensors`);
  const test = readCifar(`${opts.shared}/data/cifar10/test_batch.bin`, BATCH);
  const x = normalizeBatch(test, 0, BATCH, model.mean, model.std);
  const calib = readCifar(`${opts.shared}/data/cifar10/data_batch_1.bin`, 32);
  const backend = getBackend(); // simd where the engine has SIMD128 (the default)
  const log = (m: string) => process.stderr.write(`peer models: ${m}\n`);

  const ref = model.forward(x).logits.data;
  const cfg = quantConfig("w8a8");
  const q = new QuantizedModel(model, cfg, calibrateModel(model, normalizeBatch(calib, 0, 32, model.mean, model.std), cfg));
  log(`W8A8 vs fp32 logits: max |diff| ${maxAbsDiff(q.forward(x, { exec: "integer" }).logits.data, ref, ref.length).toFixed(3)} (quantization error, not checked)`);
  const net = foldCifarResNet(model);
  const S = model.imageSize;
  const xNhwc = nchwToNhwc(x.data, BATCH, 3, S, S);

  // Round 1, interleaved, CPU time: engine fp32, engine W8A8 integer, tfjs-wasm, onnxruntime 1 thread.
  const layered = (): unknown => {
    q.fuse = false;
    try {
      return q.forward(x, { exec: "integer" });
    } finally {
      q.fuse = true;
    }
  };
  const calls: Record<string, () => unknown> = {
    fp32: () => model.forward(x),
    w8a8: () => q.forward(x, { exec: "integer" }),
    w8a8Layered: layered,
  };
  const diffs: Record<string, number> = { fp32: 0 };
  let wasm: TfjsResNet | null = null;
  if (p.tfjs?.available.wasm === true) {
    try {
      await p.tfjs.use("wasm");
      const r = tfjsResNet(p.tfjs.tf, net);
      diffs.wasm = maxAbsDiff(r.run(xNhwc, BATCH), ref, ref.length);
      calls.wasm = () => r.run(xNhwc, BATCH);
      wasm = r;
    } catch (e) {
      p.skip("tfjs-wasm", e);
    }
  }
  const bytes = resnetModel(net, BATCH);
  const session = async (threads: number): Promise<OrtSession | null> => {
    if (!p.ort) return null;
    try {
      const s = await p.ort.session(bytes, threads);
      s.bind("x", x.data, [BATCH, 3, S, S]);
      diffs[`ort${threads}`] = maxAbsDiff(await s.run(), ref, ref.length);
      return s;
    } catch (e) {
      return p.skip(`onnxruntime-node (${threads} threads)`, e);
    }
  };
  const ort1 = await session(1);
  if (ort1) calls.ort1 = () => ort1.run();
  log(`interleaved: ${Object.keys(calls).join(", ")}`);
  const t = await measureInterleaved(calls, FAST);
  wasm?.dispose();
  const rows: PeerModelRow[] = [row(`zoa-ts (${backend.name})`, "fp32", 1, BATCH, t.fp32, 0)];
  const qRow = row(`zoa-ts (${backend.name})`, q.fusedPlan().plan ? "W8A8 integer (fused)" : "W8A8 integer", 1, BATCH, t.w8a8, null);
  rows.push(qRow);
  rows.push(row(`zoa-ts (${backend.name})`, "W8A8 integer (layer by layer)", 1, BATCH, t.w8a8Layered, null));
  if (t.wasm) rows.push(row(`tfjs-wasm ${p.tfjs?.version}`, "fp32", 1, BATCH, t.wasm, diffs.wasm));
  if (t.ort1) rows.push(row(`onnxruntime-node ${p.ort?.version}`, "fp32", 1, BATCH, t.ort1, diffs.ort1));

  // Round 2, interleaved, wall time: onnxruntime 1 vs 2 threads (the second thread's gain), and the engine's
  // W8A8 on the same clock.
  const ort2 = await session(2);
  let ort2Row: PeerModelRow | null = null;
  if (ort1 && ort2) {
    log("interleaved: onnxruntime 1 and 2 threads, zoa-ts W8A8 (wall)");
    const w = await measureInterleaved({ one: () => ort1.run(), two: () => ort2.run(), w8a8: () => q.forward(x, { exec: "integer" }) }, FAST);
    ort2Row = row(`onnxruntime-node ${p.ort?.version}`, "fp32", 2, BATCH, w.two, diffs.ort2);
    rows.push(ort2Row);
    ort2Row.wallOf1Thread = BATCH / (w.one.wallMs / 1000);
    ort2Row.engineW8a8Wall = BATCH / (w.w8a8.wallMs / 1000);
  }
  await ort1?.release();
  await ort2?.release();

  // tfjs-cpu alone (slow), on a smaller batch.
  if (p.tfjs?.available.cpu === true) {
    log(`tfjs-cpu fp32, batch ${TFJS_CPU_BATCH}`);
    try {
      await p.tfjs.use("cpu");
      const r = tfjsResNet(p.tfjs.tf, net);
      const input = xNhwc.subarray(0, TFJS_CPU_BATCH * S * S * 3);
      const diff = maxAbsDiff(r.run(input, TFJS_CPU_BATCH), ref, TFJS_CPU_BATCH * net.classes);
      rows.push(row(`tfjs-cpu ${p.tfjs.version}`, "fp32", 1, TFJS_CPU_BATCH, await measure(() => r.run(input, TFJS_CPU_BATCH), SLOW), diff));
      r.dispose();
    } catch (e) {
      p.skip("tfjs-cpu", e);
    }
  }
  const find = (prefix: string, threads: number) => rows.find((r) => r.engine.startsWith(prefix) && r.threads === threads && r.ok === true) ?? null;
  const wasmRow = find("tfjs-wasm", 1);
  const ort1Row = find("onnxruntime", 1);
  const qi = qRow.cpuIps as number;
  return {
    model: "resnet20-cifar10",
    rows,
    ratios: [
      { name: "W8A8 integer / tfjs-wasm fp32", value: wasmRow?.cpuIps ? qi / wasmRow.cpuIps : null, want: ">= 1.0" },
      { name: "W8A8 integer / onnxruntime fp32 (1 thread)", value: ort1Row?.cpuIps ? qi / ort1Row.cpuIps : null, want: ">= 0.333" },
      { name: "W8A8 integer (1 thread) / onnxruntime fp32 (2 threads), wall", value: ort2Row?.ok && ort2Row.engineW8a8Wall ? ort2Row.engineW8a8Wall / ort2Row.wallIps : null, want: "-" },
      { name: "onnxruntime 2 threads / 1 thread, wall", value: ort2Row?.ok && ort2Row.wallOf1Thread ? ort2Row.wallIps / ort2Row.wallOf1Thread : null, want: "-" },
    ],
  };
}

const f = (x: number | null, d = 1): string => (x === null ? "-" : x.toFixed(d));

export function peerModelsTable(r: PeerModelReport): string {
  const rows = mdTable(
    ["engine", "precision", "threads", "batch", "images/s (CPU time)", "images/s (wall)", "max |logit diff| vs zoa fp32", "check"],
    r.rows.map((x) => [x.engine, x.precision, x.threads, x.batch, f(x.cpuIps), f(x.wallIps), x.maxAbsDiff === null ? "(quantized)" : x.maxAbsDiff.toExponential(1), x.ok === null ? "-" : x.ok ? "ok" : "WRONG"]),
  );
  const ratios = mdTable(
    ["ratio", "measured", "issue wants"],
    r.ratios.map((x) => [x.name, f(x.value, 3), x.want]),
  );
  return `${rows}\n\n${ratios}`;
}

export const PEER_MODELS_NOTE =
  `ResNet-20 on the first ${BATCH} CIFAR-10 test images, normalised outside the timing; medians of 7 runs after 2 warm-up ` +
  `calls (tfjs-cpu: batch ${TFJS_CPU_BATCH}, 3 runs after 1). Peers run the BN-folded network (tfjs NHWC, onnxruntime NCHW); ` +
  `a peer row is WRONG when its logits differ from the engine's fp32 logits by ${LOGIT_TOL} or more. W8A8 integer (fused): ` +
  `the fused integer ResNet pipeline (src/quant/fused: BN and the next quantizer folded into int32 output stages, uint8 codes ` +
  `and an int32 residual stream between layers, Winograd F(2x2, 3x3) for 3x3 stride-1 convs), what integer forwards with ` +
  `running BN statistics run and the ratios use; layer by layer: QuantizedModel.fuse = false (float BN, ReLU and residual ` +
  `adds between integer convs, the path of adapters that use batch statistics or norm overrides).`;
