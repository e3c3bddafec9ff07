// Folds one quantized conv and its BatchNorm (eval mode, running statistics) into a fused output stage
// (kernels/cpu/qepilogue.ts) in the units the next tensor is kept in: per output channel the Q31 multiplier of
// u_acc / (2^F u_out), the BN offset in 2^-F accumulator steps (or after the multiplier where it does not fit), and
// int32 bounds of every intermediate from the weights, so the reference ops can never overflow. Shared by the planner
// (resnet_plan.ts), which throws PlanRefused upward when a bound fails.
import type { ResNet } from "../../models/resnet.js";
import { BN_EPS } from "../../models/resnet_blocks.js";
import { INT32_MAX, INT32_MIN, quantizeMultiplier } from "../fixedpoint.js";
import type { EpilogueShortcut, EpilogueSpec } from "../kernels/cpu/qepilogue.js";
import type { QuantWeightLayer } from "../ptq.js";
import type { QCodes } from "../qtensor.js";
import { roundHalfAwayFromZero } from "../rounding.js";
import { type BnMoments, type BnPrior, blendMoments } from "../../models/model.js";
import { type AccSums, accMoments } from "./resnet_ops.js";

/** Clamp of the residual stream in its own units: 2^(28 - k) codes of the next quantizer. */
export const RESIDUAL_MAX = 2 ** 28 - 1;
/** Bound of each term summed in an output stage (two terms stay below 2^30, far from int32's end). */
export const TERM_LIMIT = 2 ** 29;

/** uint8 codes a conv reads: real = scale * (q - zeroPoint), q in [0, qmax]. */
export interface ActCodes {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly qmax: number;
}

/** One conv with its BN and the next quantizer folded into its output stage. */
export interface FusedConv {
  readonly name: string;
  readonly weight: QCodes; // [K, C, KH, KW]
  readonly weightShape: readonly [number, number, number, number];
  readonly wZeroPoint: Int32Array;
  /** int32 bias [K] (integer part of the BN offset and conv bias in accumulator units), accumulated by the conv. */
  readonly bias: Int32Array;
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly input: ActCodes;
  /** The output stage; its channels.bias holds the bias fraction (accShift bits) the conv does not carry. */
  readonly epilogue: EpilogueSpec;
  /** Real value of one output unit (a code step for inner convs, u_r for residual outputs). */
  readonly unit: number;
  /** Largest |value| the output stage can produce (before its clamp). */
  readonly bound: number;
  /** The BN folded in (state-dict prefix) and what the output stage writes: batch-statistics forwards refold from these. */
  readonly bn: string;
  readonly output: OutputSpec;
  /** Per-channel weight scale sW [K] (or [1]) and the conv's own bias in accumulator units (zeros without one). */
  readonly weightScale: Float32Array | Float64Array;
  readonly ownBias: Int32Array;
}

/** A bound or a quantizer the fused pipeline cannot take; the caller reports its message. */
export class PlanRefused extends Error {}

/** The codes conv `l` reads (its input quantizer must be per-tensor unsigned). */
export function actCodes(l: QuantWeightLayer): ActCodes {
  if (l.input.kind !== "uniform") throw new PlanRefused(`${l.name}: the input quantizer is not uniform`);
  const p = l.input.params;
  if (p.signed || p.axis !== null || p.bits > 8) throw new PlanRefused(`${l.name}: the input quantizer is not per-tensor unsigned <= 8 bits`);
  return { scale: p.scale[0], zeroPoint: p.zeroPoint[0], qmax: 2 ** p.bits - 1 };
}

/** |acc[c]| bound: sum_j |w[c, j] - zW[c]| * max |x - zX| over the input's codes. */
function accBounds(l: QuantWeightLayer, input: ActCodes): Float64Array {
  const w = l.weight.data;
  const K = l.weight.shape[0];
  const per = w.length / K;
  const maxX = Math.max(input.zeroPoint, input.qmax - input.zeroPoint);
  const out = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    const z = l.weight.zeroPoint[l.weight.zeroPoint.length === 1 ? 0 : c];
    let s = 0;
    for (let j = c * per; j < (c + 1) * per; j++) s += Math.abs(w[j] - z);
    out[c] = s * maxX;
  }
  return out;
}

/** A BN as y = a x + b per channel (double), x in real units of the conv output. */
export interface BnAffine {
  a: Float64Array;
  b: Float64Array;
}

/** BN in eval mode as y = a x + b per channel (double). */
function bnAffine(model: ResNet, bn: string): BnAffine {
  const p = model.params;
  const mean = p.maybe(`${bn}.running_mean`)?.data;
  const vari = p.maybe(`${bn}.running_var`)?.data;
  if (!mean || !vari) throw new PlanRefused(`${bn}: no running statistics`);
  const gamma = p.maybe(`${bn}.weight`)?.data;
  const beta = p.maybe(`${bn}.bias`)?.data;
  const a = Float64Array.from(mean, (_, c) => (gamma ? gamma[c] : 1) / Math.sqrt(vari[c] + BN_EPS));
  const b = Float64Array.from(mean, (m, c) => (beta ? beta[c] : 0) - m * a[c]);
  return { a, b };
}

function multiplierOf(real: number): { multiplier: number; shift: number; left: number; real: number } {
  const q = quantizeMultiplier(real);
  // NOTE: INT32_MIN * INT32_MIN is the one product SRDHM saturates; a multiplier of -(2^31 - 1) never meets it.
  const multiplier = q.multiplier === INT32_MIN ? -INT32_MAX : q.multiplier;
  return { multiplier, shift: q.shift, left: Math.max(q.shift, 0), real: multiplier * 2 ** (q.shift - 31) };
}

/** What the output stage of a conv writes. */
export interface OutputSpec {
  readonly unit: number;
  readonly relu: boolean;
  readonly shortcut: EpilogueShortcut;
  /** Bound of the shortcut term (0 without one). */
  readonly shortcutBound: number;
  readonly lo: number;
  readonly hi: number;
  readonly values: boolean;
  readonly codes: { readonly exponent: number; readonly input: ActCodes } | null;
}

/**
 * Fraction bits of the accumulator (EpilogueSpec.accShift): the most that fit, from ACC_SHIFT_MAX down to 0. The BN
 * offset's rounding error, 2^-(F+1) accumulator steps, moves codes near ties: with F = 8 at W4A4 (a step ~0.1 code)
 * ResNet-20 agreed with the simulated mode on 94.15 % of the first 2000, with up to 15 on 99.60 %.
 */
export const ACC_SHIFT_MAX = 15;

/** What foldChannels reads of a conv: its name (for errors), weight scales sW [K] or [1], real bias [K] or none. */
interface ConvScales {
  readonly name: string;
  readonly sW: ArrayLike<number>;
  readonly bias: ArrayLike<number> | null;
}

interface FoldedChannels {
  convBias: Int32Array;
  bias: Int32Array;
  multiplier: Int32Array;
  shift: Int32Array;
  post: Int32Array;
  bound: number;
}

/**
 * Per-channel output stage of a conv for one accumulator shift F, or the reason a channel does not fit (returned, not
 * thrown: batch-statistics forwards try several F per conv per forward, and exceptions are slow).
 */
function foldChannels(
  l: ConvScales,
  sA: number,
  bn: { a: Float64Array; b: Float64Array },
  bounds: Float64Array,
  out: OutputSpec,
  shiftF: number,
): FoldedChannels | string {
  const K = bounds.length;
  const sW = l.sW;
  const F = 2 ** shiftF;
  const r = { convBias: new Int32Array(K), bias: new Int32Array(K), multiplier: new Int32Array(K), shift: new Int32Array(K), post: new Int32Array(K), bound: 0 };
  for (let c = 0; c < K; c++) {
    const s = sA * sW[sW.length === 1 ? 0 : c];
    const convBias = l.bias ? roundHalfAwayFromZero(l.bias[c] / s) : 0; // the integer mode's bias codes
    const accUnit = s * bn.a[c]; // real value of one accumulator step after BN
    const m = multiplierOf(accUnit / F / out.unit);
    // x = acc * 2^F + biasF, then MBQM(x, m): |x| * 2^left must fit int32, the result (plus post) TERM_LIMIT
    const term = (x: number, post: number): number => x * Math.abs(m.real) + 1 + Math.abs(post);
    const fits = (x: number, post: number): boolean => x * 2 ** m.left <= INT32_MAX && term(x, post) <= TERM_LIMIT;
    const withBn = accUnit === 0 ? Number.NaN : roundHalfAwayFromZero((bn.b[c] / accUnit) * F) + convBias * F;
    let biasF: number;
    if (Number.isFinite(withBn) && fits((bounds[c] + 1) * F + Math.abs(withBn), 0)) {
      biasF = withBn;
    } else {
      // the BN offset after the multiplier (a ~ 0): one more rounding, at the output's resolution
      biasF = convBias * F;
      r.post[c] = roundHalfAwayFromZero(bn.b[c] / out.unit);
      if (!fits((bounds[c] + 1) * F + Math.abs(biasF), r.post[c])) return `${l.name}: channel ${c} does not fit int32 in units of ${out.unit}`;
    }
    // the conv accumulates the integer part, the output stage adds the fraction: (acc + hi) * 2^F + lo = acc * 2^F + biasF
    r.convBias[c] = Math.floor(biasF / F);
    r.bias[c] = biasF - r.convBias[c] * F;
    r.multiplier[c] = m.multiplier;
    r.shift[c] = m.shift;
    r.bound = Math.max(r.bound, term((bounds[c] + 1) * F + Math.abs(biasF), r.post[c]) + out.shortcutBound);
  }
  return r;
}

/**
 * Folds conv `l` (stride from the ResNet's structure, padding (KH - 1) / 2 as every ResNet conv has) and its BN into
 * an output stage in `out.unit` units; throws Refused when no accumulator shift fits.
 */
export function foldConv(model: ResNet, l: QuantWeightLayer, bn: string, stride: number, out: OutputSpec): FusedConv {
  if (l.kind !== "conv" || l.weight.shape.length !== 4) throw new PlanRefused(`${l.name}: not a conv`);
  const input = actCodes(l);
  if (!(l.weight.data instanceof Int8Array) && !(l.weight.data instanceof Uint8Array)) throw new PlanRefused(`${l.name}: weight codes are not bytes`);
  const [K, C, KH, KW] = l.weight.shape;
  const f = foldWithShift({ name: l.name, sW: l.weight.scale, bias: l.bias?.data ?? null }, input.scale, bnAffine(model, bn), accBounds(l, input), out);
  if (KH !== KW || KH % 2 !== 1) throw new PlanRefused(`${l.name}: ${KH}x${KW} kernel`);
  const pad = (KH - 1) / 2;
  const sW = l.weight.scale;
  const ownBias = Int32Array.from({ length: K }, (_, c) => (l.bias ? roundHalfAwayFromZero(l.bias.data[c] / (input.scale * sW[sW.length === 1 ? 0 : c])) : 0));
  return {
    name: l.name,
    weight: l.weight.data,
    weightShape: [K, C, KH, KW],
    wZeroPoint: l.weight.zeroPoint,
    bias: f.convBias,
    stride: [stride, stride],
    padding: [pad, pad],
    input,
    epilogue: f.epilogue,
    unit: out.unit,
    bound: f.bound,
    bn,
    output: out,
    weightScale: sW,
    ownBias,
  };
}

/** foldChannels at the largest accumulator shift that fits (ACC_SHIFT_MAX down to 0), and its output stage. */
function foldWithShift(
  l: ConvScales,
  sA: number,
  affine: BnAffine,
  bounds: Float64Array,
  out: OutputSpec,
): { convBias: Int32Array; epilogue: EpilogueSpec; bound: number } {
  let shiftF = ACC_SHIFT_MAX;
  let f = foldChannels(l, sA, affine, bounds, out, shiftF);
  while (typeof f === "string" && shiftF > 0) f = foldChannels(l, sA, affine, bounds, out, --shiftF);
  if (typeof f === "string") throw new PlanRefused(f);
  const codes = out.codes;
  const epilogue: EpilogueSpec = {
    channels: { bias: f.bias, multiplier: f.multiplier, shift: f.shift, post: f.post },
    accShift: shiftF,
    shortcut: out.shortcut,
    lo: out.relu ? 0 : out.lo,
    hi: out.hi,
    values: out.values,
    codes: codes ? { exponent: codes.exponent, zeroPoint: codes.input.zeroPoint, qmin: 0, qmax: codes.input.qmax } : null,
  };
  return { convBias: f.convBias, epilogue, bound: f.bound };
}

/** One BN of a batch-statistics forward: its affine (stored or overridden) and an optional prior blended in. */
export interface BatchBn {
  weight: ArrayLike<number> | null;
  bias: ArrayLike<number> | null;
  prior?: BnPrior;
}

/**
 * Per-channel mean and biased variance of `fc`'s output in real units (x = sA sW acc) from its accumulator sums over
 * the batch, with the largest |acc| per channel.
 */
export function realMoments(fc: FusedConv, sums: AccSums): BnMoments & { absMax: Float64Array } {
  const m = accMoments(sums);
  const sW = fc.weightScale;
  const unit = (c: number): number => fc.input.scale * sW[sW.length === 1 ? 0 : c]; // one accumulator step
  return { mean: m.mean.map((v, c) => v * unit(c)), variance: m.variance.map((v, c) => v * unit(c) * unit(c)), absMax: m.absMax };
}

/**
 * The output stage of `fc` from its accumulator sums over the batch: the moments in real units, reported to
 * `onStats`, blended with `bn.prior` where given (blendMoments), then foldBatchEpilogue. Both executors
 * (resnet_run.ts, resnet_reference.ts) call this, so their stages are the same bit for bit.
 */
export function refoldBatch(fc: FusedConv, sums: AccSums, bn: BatchBn, onStats?: (name: string, m: BnMoments) => void): EpilogueSpec {
  const m = realMoments(fc, sums);
  onStats?.(fc.bn, { mean: m.mean, variance: m.variance });
  return foldBatchEpilogue(fc, blendMoments(m, bn.prior), m.absMax, bn.weight, bn.bias);
}

/**
 * The output stage of `fc` for BN with batch statistics (NormAdapt, ZOA on ResNets): the conv ran with its own bias
 * only (fc.ownBias); the BN is y = gamma (x - mean) / sqrt(var + eps) + beta with the given mean and (biased)
 * variance of x = sA sW acc, and |acc| <= absMax. The whole BN offset then goes into the output stage's bias (2^-F
 * accumulator steps), the bounds are the batch's own (not the weights' worst case), and the output units are the
 * plan's (fc.output), so the tensors downstream keep their meaning.
 * Throws PlanRefused where a channel does not fit int32 (the caller runs the unfused path).
 */
export function foldBatchEpilogue(
  fc: FusedConv,
  moments: BnMoments,
  absMax: Float64Array,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
): EpilogueSpec {
  const a = moments.variance.map((v, c) => (gamma ? gamma[c] : 1) / Math.sqrt(v + BN_EPS));
  const b = moments.mean.map((m, c) => (beta ? beta[c] : 0) - m * a[c]);
  const f = foldWithShift({ name: fc.name, sW: fc.weightScale, bias: null }, fc.input.scale, { a, b }, absMax, fc.output);
  const F = 2 ** f.epilogue.accShift;
  const bias = Int32Array.from(f.epilogue.channels.bias, (lo, c) => f.convBias[c] * F + lo); // fits: foldChannels bounded it
  return { ...f.epilogue, channels: { ...f.epilogue.channels, bias } };
}

/** The rescale of a residual of unit uIn into units uOut (identity / option A shortcuts). */
export function rescale(uIn: number, uOut: number): { shortcut: EpilogueShortcut; bound: number } {
  const m = multiplierOf(uIn / uOut);
  if (RESIDUAL_MAX * 2 ** m.left > INT32_MAX) throw new PlanRefused(`shortcut rescale ${uIn / uOut} needs too large a left shift`);
  const bound = RESIDUAL_MAX * Math.abs(m.real) + 1;
  if (bound > TERM_LIMIT) throw new PlanRefused(`shortcut rescale ${uIn / uOut} exceeds the term limit`);
  return { shortcut: { kind: "rescale", multiplier: m.multiplier, shift: m.shift }, bound };
}

/** Codes of another quantizer from residual values of unit u: clamp(MBQM(r, u / s) + z), one channel rule for all. */
export function recodeSpec(u: number, to: ActCodes, channels: number): EpilogueSpec {
  const m = multiplierOf(u / to.scale);
  if (RESIDUAL_MAX * 2 ** m.left > INT32_MAX) throw new PlanRefused("shortcut codes: rescale needs too large a left shift");
  return {
    channels: {
      bias: new Int32Array(channels),
      multiplier: new Int32Array(channels).fill(m.multiplier),
      shift: new Int32Array(channels).fill(m.shift),
      post: new Int32Array(channels),
    },
    accShift: 0,
    shortcut: { kind: "none" },
    lo: 0,
    hi: to.qmax,
    values: false,
    codes: { exponent: 0, zeroPoint: to.zeroPoint, qmin: 0, qmax: to.qmax },
  };
}
