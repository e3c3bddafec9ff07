// The fused integer ResNet pipeline on the SIMD kernels, resident in the integer runtime's wasm memory: each conv
// (3x3 stride 1: Winograd F(2x2, 3x3), qwinograd.ts; others: qconv2dSimdStream) hands its int32 accumulators, chunk
// by chunk while they are in cache, to the fused output stage (qepilogue_kernel.ts) that writes the next conv's
// uint8 codes and the int32 residual stream in place. No float
// tensor and no per-layer allocation between the input quantizer and the pooled features. Images go through the
// whole network in passes of `imagesPerPass` (activations of one pass stay small enough for the caches); per pass:
//   stem conv -> [max pool] -> per block: inner convs (codes) ; shortcut (identity | option A gather | conv) ;
//   end conv (+ shortcut, ReLU: residual values and the next block's codes) -> per stage: pooled values.
// Bit-exact with runFusedReference (the same plan on the reference kernels), tensor by tensor.
import { EPILOGUE_DESC_INTS, EPILOGUE_SLACK, EPILOGUE_TABLE_BYTES } from "../kernels/simd/qepilogue_kernel.js";
import { type EpilogueAddresses, epilogueTableBytes, runEpilogueAt, writeEpilogueTable, writeShortcutEntry } from "../kernels/simd/qepilogue.js";
import { ACC_STATS_BYTES } from "../kernels/simd/acc_stats_kernel.js";
import { qconv2dSimdStream } from "../kernels/simd/qconv2d.js";
import { qconv3x3WinogradStream } from "../kernels/simd/qwinograd.js";
import { Arena, type QSimdRuntime, ensureBytes, getQRuntime } from "../kernels/simd/runtime.js";
import type { EpilogueSpec } from "../kernels/cpu/qepilogue.js";
import type { FusedConv, FusedResNetPlan } from "./resnet_plan.js";
import { rangeOf } from "../qtensor.js";
import type { FusedCheckpoint } from "./resnet_checkpoint.js";
import { type BatchBn, PlanRefused, refoldBatch } from "./resnet_fold.js";
import type { BnMoments } from "../../models/model.js";
import { type AccSums, accSums, addPlaneStats, gatherOptionA, maxPoolPlanes, quantizeInto, windowSize } from "./resnet_ops.js";
import { type Dims4, type FusedTrace, convDims, convParams } from "./resnet_reference.js";

/** The affine of BN `bn` (state-dict prefix) for batch-statistics forwards: an override (ZOA) or the stored one. */
export type BnAffineSource = (bn: string) => BatchBn;

export interface FusedRunOptions {
  /** Images per pass through the whole network (default: 16, fewer where a pass would need over PASS_BYTES). */
  imagesPerPass?: number;
  trace?: FusedTrace;
  /**
   * BN with the statistics of the batch (NormAdapt, ZOA on ResNets) and these affines: every conv runs over the whole
   * batch, its accumulators are kept and summed per channel (accumulateStats), and its output stage is refolded
   * from the batch's mean and variance (foldBatchEpilogue) before it runs. One pass of all N images.
   */
  batchStats?: BnAffineSource;
  /** Batch-statistics forwards: receives every BN's batch mean and biased variance (real units, ForwardOptions.onBnStats). */
  onBnStats?: (name: string, m: BnMoments) => void;
  /** Batch-statistics forwards: receives the stem conv's accumulator sums (the embed moments of the shift detector). */
  onStemSums?: (sums: AccSums) => void;
  /**
   * Batch-statistics forwards: keep (or resume from) the residual at the input of flat block `block` in `cache`
   * (resnet_checkpoint.ts); the caller picks the first block whose BN affines may change between its forwards.
   */
  checkpoint?: { cache: FusedCheckpoint; block: number };
}

export const DEFAULT_IMAGES_PER_PASS = 16;
/** Bytes of activations one pass may hold by default (ImageNet-size inputs get fewer images per pass). */
export const PASS_BYTES = 2 ** 26;
/** Bytes of activations a batch-statistics forward (one pass of the whole batch) may hold; beyond, PlanRefused. */
export const BATCH_BYTES = 2 ** 30;

/** Largest per-image element counts of the residual tensors (stem, pool, block outputs) and of the inner ones. */
function perImageSizes(plan: FusedResNetPlan, c: number, h: number, w: number): { residual: number; inner: number } {
  let residual = 0;
  let inner = 0;
  let d: Dims4 = [1, c, h, w];
  const size = (x: Dims4): number => x[1] * x[2] * x[3];
  d = convDims(plan.stem, d);
  residual = Math.max(residual, size(d));
  if (plan.maxPool) d = [1, d[1], windowSize(d[2], 3, 2, 1), windowSize(d[3], 3, 2, 1)];
  for (const b of plan.stages.flat()) {
    let x = d;
    for (const fc of b.convs.slice(0, -1)) {
      x = convDims(fc, x);
      inner = Math.max(inner, size(x));
    }
    d = convDims(b.convs[b.convs.length - 1], x);
    residual = Math.max(residual, size(d));
  }
  return { residual, inner };
}

/** Where one pass keeps its tensors: byte addresses, two of each kind to alternate between. */
interface Slots {
  input: number;
  values: [number, number];
  codes: [number, number];
  inner: [number, number];
  sc: number;
  scCodes: number;
  /** The whole batch's accumulators of one conv (batch-statistics forwards; else -1). */
  acc: number;
  /** Per-plane statistics (acc_stats_kernel.ts) of up to `pass` images of the widest conv. */
  stats: number;
  desc: number;
  tables: Map<FusedConv | EpilogueSpec, { table: number; scTable: number }>;
  end: number;
}

function allocate(plan: FusedResNetPlan, dims: Dims4, pass: number, keepAcc: boolean): Slots {
  const [, c, h, w] = dims;
  const per = perImageSizes(plan, c, h, w);
  const arena = new Arena();
  const r = pass * per.residual;
  const m = pass * per.inner;
  const tables = new Map<FusedConv | EpilogueSpec, { table: number; scTable: number }>();
  const convs: FusedConv[] = [plan.stem];
  for (const b of plan.stages.flat()) {
    convs.push(...b.convs);
    if (b.shortcut.kind === "conv") convs.push(b.shortcut.conv);
  }
  for (const fc of convs) tables.set(fc, { table: arena.take(epilogueTableBytes(fc.weightShape[0])), scTable: arena.take(EPILOGUE_TABLE_BYTES) });
  for (const b of plan.stages.flat()) {
    if (b.shortcutCodes) tables.set(b.shortcutCodes, { table: arena.take(epilogueTableBytes(b.shortcutCodes.channels.bias.length)), scTable: -1 });
  }
  return {
    tables,
    desc: arena.take(4 * EPILOGUE_DESC_INTS),
    input: arena.take(pass * c * h * w),
    values: [arena.take(4 * r + EPILOGUE_SLACK), arena.take(4 * r + EPILOGUE_SLACK)],
    codes: [arena.take(r), arena.take(r)],
    inner: [arena.take(m), arena.take(m)],
    sc: arena.take(4 * r + EPILOGUE_SLACK),
    scCodes: arena.take(r),
    acc: keepAcc ? arena.take(4 * Math.max(r, m) + EPILOGUE_SLACK) : -1,
    stats: arena.take(ACC_STATS_BYTES * pass * Math.max(...convs.map((fc) => fc.weightShape[0]))),
    end: arena.end,
  };
}

function writeTables(rt: QSimdRuntime, slots: Slots): void {
  for (const [key, at] of slots.tables) {
    const spec = "epilogue" in key ? key.epilogue : key;
    writeEpilogueTable(rt, at.table, spec.channels);
    if (spec.shortcut.kind === "rescale") writeShortcutEntry(rt, at.scTable, spec.shortcut.multiplier, spec.shortcut.shift);
  }
}

/** A tensor of the current pass in wasm memory (addresses -1 where absent). */
interface Resident {
  dims: Dims4;
  values: number;
  codes: number;
}

/**
 * Runs `plan` on images [N, 3, H, W]: input codes of the stem quantizer, or the normalised floats (quantized pass by
 * pass into wasm memory, as quantize(x, plan.input) would); returns each stage's pooled output [N, C_s].
 * @example runFusedResNet(plan, x.data, [N, 3, 32, 32])
 */
export function runFusedResNet(plan: FusedResNetPlan, input: Uint8Array | Float32Array, dims: Dims4, opts: FusedRunOptions = {}): Float32Array[] {
  const [n, c, h, w] = dims;
  const per = perImageSizes(plan, c, h, w);
  const perImageBytes = 15 * per.residual + 2 * per.inner + c * h * w; // int32 values x2 and shortcut, codes x3
  const byDefault = Math.min(DEFAULT_IMAGES_PER_PASS, Math.floor(PASS_BYTES / perImageBytes));
  const batch = opts.batchStats;
  if (batch && n * perImageBytes > BATCH_BYTES) throw new PlanRefused(`batch statistics: ${n} images need ${n * perImageBytes} bytes of activations (limit ${BATCH_BYTES})`);
  const pass = batch ? n : Math.max(1, Math.min(n, opts.imagesPerPass ?? byDefault));
  const rt = getQRuntime();
  const slots = allocate(plan, dims, pass, batch !== undefined);
  ensureBytes(rt, slots.end);
  writeTables(rt, slots);
  const trace = opts.trace;
  const pooled = plan.stageUnits.map(() => new Float32Array(0));
  const { qmin, qmax } = rangeOf(plan.input);
  let stemSums: AccSums | null = null;
  const reported: [string, BnMoments][] = []; // kept for a checkpoint to replay
  const reportStats = opts.onBnStats
    ? (name: string, m: BnMoments): void => {
        reported.push([name, m]);
        opts.onBnStats?.(name, m);
      }
    : undefined;
  const inputCodes = { scale: plan.input.scale[0], zeroPoint: plan.input.zeroPoint[0], qmin, qmax };

  /** conv `fc` reading codes at xAt, its output stage writing into `out` (and reading the residual at scAt). */
  const conv = (fc: FusedConv, xAt: number, xd: Dims4, out: { values: number; codes: number }, scAt: number, row0: number): Resident => {
    const od = convDims(fc, xd);
    const [, k, oh, ow] = od;
    const p = oh * ow;
    const at = slots.tables.get(fc) as { table: number; scTable: number };
    const addresses = (accAt: number, off: number): EpilogueAddresses => ({
      acc: accAt,
      table: at.table,
      sc: scAt < 0 ? -1 : scAt + 4 * off,
      scTable: at.scTable,
      values: out.values < 0 ? -1 : out.values + 4 * off,
      codes: out.codes < 0 ? -1 : out.codes + off,
      desc: slots.desc,
    });
    const source = { at: xAt, signed: false };
    const params = convParams(fc, xd);
    const run = (bias: Int32Array, sink: (n0: number, bn: number, accAt: number) => void): void => {
      const scratch = new Arena(slots.end);
      const ok = qconv3x3WinogradStream(source, fc.weight, bias, params, scratch, sink) || qconv2dSimdStream(source, fc.weight, bias, params, scratch, sink);
      if (!ok) throw new Error(`runFusedResNet: ${fc.name} does not fit the SIMD conv (the planner should have refused it)`);
    };
    if (!batch) {
      // the output stage runs on each chunk of accumulators while it is in cache
      run(fc.bias, (n0, bn, accAt) => runEpilogueAt(rt, addresses(accAt, n0 * k * p), bn * k, p, k, fc.epilogue));
    } else {
      // keep the whole batch's accumulators and their sums, then refold the BN from the batch's moments
      const sums = accSums(k);
      run(fc.ownBias, (n0, bn, accAt) => {
        rt.k.accStats(accAt, bn * k, p, slots.stats);
        addPlaneStats(new Float64Array(rt.memory.buffer, slots.stats, 3 * bn * k), bn, k, p, sums);
        rt.i32.copyWithin((slots.acc >> 2) + n0 * k * p, accAt >> 2, (accAt >> 2) + bn * k * p);
      });
      if (fc === plan.stem) {
        stemSums = sums;
        opts.onStemSums?.(sums);
      }
      const spec = refoldBatch(fc, sums, batch(fc.bn), reportStats);
      writeEpilogueTable(rt, at.table, spec.channels);
      runEpilogueAt(rt, addresses(slots.acc, 0), xd[0] * k, p, k, spec);
    }
    const res = { dims: od, values: fc.epilogue.values ? out.values : -1, codes: fc.epilogue.codes ? out.codes : -1 };
    if (trace) traceResident(rt, trace, fc.name, res, row0);
    return res;
  };

  // batch statistics: one pass (i0 = 0, b = n); a checkpoint may stand in for the stem and the blocks before it
  const ck = batch && opts.checkpoint && opts.checkpoint.block > 0 ? opts.checkpoint : null;
  const prefix = ck ? prefixAffines(plan, ck.block, batch as BnAffineSource) : null;
  const resume = ck !== null && ck.cache.matches(ck.block, input, dims, prefix as Float64Array);
  if (ck && !resume) ck.cache.clear();
  for (let i0 = 0; i0 < n; i0 += pass) {
    const b = Math.min(pass, n - i0);
    let side = 0; // which of the two value / code slots holds the current residual tensor
    let cur: Resident = { dims: [b, c, h, w], values: -1, codes: -1 };
    if (resume) {
      const cache = (ck as { cache: FusedCheckpoint }).cache;
      cache.hits++;
      if (cache.stemSums) opts.onStemSums?.(cache.stemSums);
      for (const [name, m] of cache.bnStats) opts.onBnStats?.(name, m);
      cache.pooled.forEach((p, s) => (pooled[s] = p));
    } else {
      if (input instanceof Uint8Array) rt.u8.set(input.subarray(i0 * c * h * w, (i0 + b) * c * h * w), slots.input);
      else quantizeInto(input, i0 * c * h * w, (i0 + b) * c * h * w, inputCodes, rt.u8, slots.input);
      cur = conv(plan.stem, slots.input, [b, c, h, w], { values: slots.values[0], codes: slots.codes[0] }, -1, i0);
    }
    if (plan.maxPool && !resume) {
      const [, ch, hh, ww] = cur.dims;
      const pd: Dims4 = [b, ch, windowSize(hh, 3, 2, 1), windowSize(ww, 3, 2, 1)];
      const pool = { h: hh, w: ww, kernel: 3, stride: 2, padding: 1 };
      maxPoolPlanes(rt.i32, cur.values >> 2, rt.i32, slots.values[1] >> 2, b * ch, pool);
      maxPoolPlanes(rt.u8, cur.codes, rt.u8, slots.codes[1], b * ch, pool);
      side = 1;
      cur = { dims: pd, values: slots.values[1], codes: slots.codes[1] };
      if (trace) traceResident(rt, trace, "maxpool", cur, i0);
    }
    let flat = 0;
    plan.stages.forEach((stage, s) => {
      for (const blk of stage) {
        const j = flat++;
        if (ck && j < ck.block && resume) continue;
        if (ck && j === ck.block) {
          if (resume) cur = restoreCheckpoint(rt, ck.cache, slots.values[side], slots.codes[side]);
          else saveCheckpoint(rt, ck.cache, ck.block, input, dims, prefix as Float64Array, cur, pooled.slice(0, s), stemSums, reported.slice());
        }
        let x = cur.codes;
        let xd = cur.dims;
        blk.convs.slice(0, -1).forEach((fc, j) => {
          const t = conv(fc, x, xd, { values: -1, codes: slots.inner[j % 2] }, -1, i0);
          x = t.codes;
          xd = t.dims;
        });
        const end = blk.convs[blk.convs.length - 1];
        const od = convDims(end, xd);
        const sk = blk.shortcut;
        let scAt: number;
        if (sk.kind === "identity") scAt = cur.values;
        else if (sk.kind === "optionA") {
          const [, ci, hi, wi] = cur.dims;
          gatherOptionA(rt.i32, cur.values >> 2, rt.i32, slots.sc >> 2, b, { c: ci, h: hi, w: wi, k: od[1], stride: sk.stride, before: sk.before });
          scAt = slots.sc;
        } else {
          let codesAt = cur.codes;
          if (blk.shortcutCodes) {
            const [, ci, hi, wi] = cur.dims;
            const at = slots.tables.get(blk.shortcutCodes) as { table: number };
            const a = { acc: cur.values, table: at.table, sc: -1, scTable: -1, values: -1, codes: slots.scCodes, desc: slots.desc };
            runEpilogueAt(rt, a, b * ci, hi * wi, ci, blk.shortcutCodes);
            codesAt = slots.scCodes;
            if (trace) traceResident(rt, trace, `${blk.spec.name}.shortcut_codes`, { dims: cur.dims, values: -1, codes: codesAt }, i0);
          }
          conv(sk.conv, codesAt, cur.dims, { values: slots.sc, codes: -1 }, -1, i0);
          scAt = slots.sc;
        }
        side = 1 - side;
        cur = conv(end, x, xd, { values: slots.values[side], codes: slots.codes[side] }, scAt, i0);
      }
      if (resume && ck && flat <= ck.block) return; // the stage ended before the checkpoint: pooled from it
      const [, ch, hh, ww] = cur.dims;
      if (pooled[s].length === 0) pooled[s] = new Float32Array(n * ch);
      poolValuesSimd(rt, cur.values, b, ch, hh * ww, plan.stageUnits[s], pooled[s], i0, slots.stats);
    });
  }
  return pooled;
}

/** Weight, bias (and prior) of the BN of every conv before flat block `block` (stem, main paths, conv shortcuts), in order. */
function prefixAffines(plan: FusedResNetPlan, block: number, affine: BnAffineSource): Float64Array {
  const convs = [plan.stem];
  for (const b of plan.stages.flat().slice(0, block)) convs.push(...b.convs, ...(b.shortcut.kind === "conv" ? [b.shortcut.conv] : []));
  const out: number[] = [];
  for (const fc of convs) {
    const a = affine(fc.bn);
    const k = fc.weightShape[0];
    for (let c = 0; c < k; c++) out.push(a.weight ? a.weight[c] : 1);
    for (let c = 0; c < k; c++) out.push(a.bias ? a.bias[c] : 0);
    const p = a.prior;
    out.push(p ? p.weight : 0);
    if (p && p.weight !== 0) out.push(...p.mean, ...p.variance);
  }
  return Float64Array.from(out);
}

function saveCheckpoint(
  rt: QSimdRuntime,
  cache: FusedCheckpoint,
  block: number,
  input: Float32Array | Uint8Array,
  dims: Dims4,
  affines: Float64Array,
  cur: Resident,
  pooled: Float32Array<ArrayBuffer>[],
  stemSums: AccSums | null,
  reported: [string, BnMoments][],
): void {
  const [n, c, h, w] = cur.dims;
  const size = n * c * h * w;
  cache.block = block;
  cache.dims = [...dims];
  cache.input = input.slice();
  cache.affines = affines;
  cache.at = cur.dims;
  cache.values = rt.i32.slice(cur.values >> 2, (cur.values >> 2) + size);
  cache.codes = rt.u8.slice(cur.codes, cur.codes + size);
  cache.pooled = pooled;
  cache.stemSums = stemSums;
  cache.bnStats = reported;
}

function restoreCheckpoint(rt: QSimdRuntime, cache: FusedCheckpoint, valuesAt: number, codesAt: number): Resident {
  rt.i32.set(cache.values, valuesAt >> 2);
  rt.u8.set(cache.codes, codesAt);
  return { dims: cache.at, values: valuesAt, codes: codesAt };
}

/** poolValues (resnet_ops.ts) with the plane sums from the SIMD statistics kernel: the same exact sums, bit-identical. */
function poolValuesSimd(rt: QSimdRuntime, at: number, n: number, c: number, p: number, unit: number, out: Float32Array, row0: number, statsAt: number): void {
  rt.k.accStats(at, n * c, p, statsAt);
  const planes = new Float64Array(rt.memory.buffer, statsAt, 3 * n * c);
  for (let q = 0; q < n * c; q++) out[row0 * c + q] = (planes[3 * q] * unit) / p;
}

/** Copies a resident tensor out for the trace hook. */
function traceResident(rt: QSimdRuntime, trace: FusedTrace, name: string, t: Resident, row0: number): void {
  const [n, c, h, w] = t.dims;
  const size = n * c * h * w;
  const values = t.values < 0 ? null : rt.i32.slice(t.values >> 2, (t.values >> 2) + size);
  const codes = t.codes < 0 ? null : rt.u8.slice(t.codes, t.codes + size);
  trace(name, values, codes, row0, n);
}
