// Plans the fused integer pipeline of a quantized ResNet with running BN statistics (TFLite style): every conv's BN
// (eval mode) and the next quantizer are folded into its int32 output stage (kernels/cpu/qepilogue.ts), keeping
// the quantization points of the simulated mode (weights stay as PTQ quantized them, unfolded; each conv reads codes of
// its own input quantizer). Per conv, with a = gamma / sqrt(var + eps), b = beta - mean * a, accumulator unit
// u_acc[c] = sA * sW[c] * a[c] (real value of one accumulator step after BN) and F fraction bits of the accumulator
// (up to 8, as many as its bound allows) so the BN offset is kept to 2^-F of an accumulator step:
//   x = acc * 2^F + round(b * 2^F / u_acc)                   (the conv adds the integer part of that bias itself)
//   inner conv (conv -> BN -> ReLU -> next conv):  code = clamp(MBQM(x, u_acc / (2^F s_next)) + z_next, z_next, qmax)
//   block end (conv -> BN -> + shortcut -> ReLU):  r = clamp(MBQM(x, u_acc / (2^F u_r)) + sc, 0, RESIDUAL_MAX)
// where r, the residual stream, is int32 in units u_r = s_next / 2^k (k fine bits: 16 for 8-bit codes, 18 for 6-bit,
// fewer where the int32 bounds need it), clamped at 16x the next quantizer's range (not at that range, as an
// all-uint8 pipeline would clip the shortcut); the next conv's codes are clamp(roundingDivideByPOT(r, k) + z_next).
// Shortcuts: identity / option A add MBQM(r_in, u_in / u_r); a conv shortcut writes its BN-folded output in u_r units,
// added as is. Channels whose BN offset does not fit the accumulator (a ~ 0) take it after the multiplier instead
// (post = round(b / u_out)). Every intermediate is bounded from the weights (|acc| <= sum |w - zW| * max |x - zX|) so
// the reference ops can never overflow; a model whose bounds fail is refused (the caller runs the unfused path).
// Agreement with the simulated (float32) mode is limited by the float path's own rounding (~1e-5 of a code per
// layer), which the exact integer pipeline does not share: see BENCHMARKS.md / the fused ResNet test for figures.
import type { BlockSpec } from "../../models/resnet_blocks.js";
import { BN_EPS } from "../../models/resnet_blocks.js";
import type { ResNet } from "../../models/resnet.js";
import { INT32_MAX, INT32_MIN, quantizeMultiplier } from "../fixedpoint.js";
import type { EpilogueShortcut, EpilogueSpec } from "../kernels/cpu/qepilogue.js";
import type { QuantWeightLayer } from "../ptq.js";
import type { QCodes, QParams } from "../qtensor.js";
import { roundHalfAwayFromZero } from "../rounding.js";

/** Clamp of the residual stream in its own units: 2^(28 - k) codes of the next quantizer. */
export const RESIDUAL_MAX = 2 ** 28 - 1;
/** The residual clamp is at least this many times the next quantizer's range (qmax + 1 codes). */
export const RESIDUAL_HEADROOM = 16;
/** Bound of each term summed in an output stage (two terms stay below 2^30, far from int32's end). */
export const TERM_LIMIT = 2 ** 29;
/** Fewest fine bits of the residual stream (below this the plan is refused). */
export const FINE_BITS_MIN = 4;

/**
 * Fine bits k of a residual feeding codes of qmax: the most that keep RESIDUAL_HEADROOM (8-bit codes: 16, 6-bit: 18,
 * 4-bit: 20). More bits mean fewer codes that differ from a single rounding of the exact value (rate ~ 2^-k).
 */
export function fineBitsMax(qmax: number): number {
  return Math.floor(Math.log2((RESIDUAL_MAX + 1) / (RESIDUAL_HEADROOM * (qmax + 1))));
}

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
}

export type FusedShortcut =
  | { readonly kind: "identity" }
  /** x[:, :, ::stride, ::stride] in channels [before, before + inPlanes), zero elsewhere. */
  | { readonly kind: "optionA"; readonly stride: number; readonly before: number }
  /** Its output, in the block output's units, is added (epilogue shortcut "add"). */
  | { readonly kind: "conv"; readonly conv: FusedConv };

export interface FusedBlock {
  readonly spec: BlockSpec;
  /** Main path convs in order; all but the last are inner convs (codes out), the last adds the shortcut. */
  readonly convs: readonly FusedConv[];
  readonly shortcut: FusedShortcut;
  /** Codes of the block input for the conv shortcut when its quantizer differs from conv1's (from the residual). */
  readonly shortcutCodes: EpilogueSpec | null;
}

export interface FusedResNetPlan {
  /** The stem conv's input quantizer (the float image is quantized with it). */
  readonly input: QParams;
  /** Stem conv: BN, ReLU, residual values and the first block's codes out. */
  readonly stem: FusedConv;
  readonly maxPool: boolean;
  readonly stages: readonly (readonly FusedBlock[])[];
  /** Real value of one unit of each stage's output (the residual of its last block). */
  readonly stageUnits: readonly number[];
}

export type PlanResult = { readonly plan: FusedResNetPlan; readonly reason: null } | { readonly plan: null; readonly reason: string };

class Refused extends Error {}

function actCodes(l: QuantWeightLayer): ActCodes {
  if (l.input.kind !== "uniform") throw new Refused(`${l.name}: the input quantizer is not uniform`);
  const p = l.input.params;
  if (p.signed || p.axis !== null || p.bits > 8) throw new Refused(`${l.name}: the input quantizer is not per-tensor unsigned <= 8 bits`);
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

/** BN in eval mode as y = a x + b per channel (double). */
function bnAffine(model: ResNet, bn: string): { a: Float64Array; b: Float64Array } {
  const p = model.params;
  const mean = p.maybe(`${bn}.running_mean`)?.data;
  const vari = p.maybe(`${bn}.running_var`)?.data;
  if (!mean || !vari) throw new Refused(`${bn}: no running statistics`);
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
interface OutputSpec {
  unit: number;
  relu: boolean;
  shortcut: EpilogueShortcut;
  /** Bound of the shortcut term (0 without one). */
  shortcutBound: number;
  lo: number;
  hi: number;
  values: boolean;
  codes: { exponent: number; input: ActCodes } | null;
}

/** Fraction bits of the accumulator (EpilogueSpec.accShift): the most that fit, from ACC_SHIFT_MAX down to 0. */
export const ACC_SHIFT_MAX = 8;

/** Per-channel output stage of a conv for one accumulator shift F; throws Refused when a channel does not fit. */
function foldChannels(
  l: QuantWeightLayer,
  sA: number,
  bn: { a: Float64Array; b: Float64Array },
  bounds: Float64Array,
  out: OutputSpec,
  shiftF: number,
): { convBias: Int32Array; bias: Int32Array; multiplier: Int32Array; shift: Int32Array; post: Int32Array; bound: number } {
  const K = bounds.length;
  const sW = l.weight.scale;
  const F = 2 ** shiftF;
  const r = { convBias: new Int32Array(K), bias: new Int32Array(K), multiplier: new Int32Array(K), shift: new Int32Array(K), post: new Int32Array(K), bound: 0 };
  for (let c = 0; c < K; c++) {
    const s = sA * sW[sW.length === 1 ? 0 : c];
    const convBias = l.bias ? roundHalfAwayFromZero(l.bias.data[c] / s) : 0; // the integer mode's bias codes
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
      if (!fits((bounds[c] + 1) * F + Math.abs(biasF), r.post[c])) throw new Refused(`${l.name}: channel ${c} does not fit int32 in units of ${out.unit}`);
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
function foldConv(model: ResNet, l: QuantWeightLayer, bn: string, stride: number, out: OutputSpec): FusedConv {
  if (l.kind !== "conv" || l.weight.shape.length !== 4) throw new Refused(`${l.name}: not a conv`);
  const input = actCodes(l);
  if (!(l.weight.data instanceof Int8Array) && !(l.weight.data instanceof Uint8Array)) throw new Refused(`${l.name}: weight codes are not bytes`);
  const [K, C, KH, KW] = l.weight.shape;
  const affine = bnAffine(model, bn);
  const bounds = accBounds(l, input);
  let shiftF = ACC_SHIFT_MAX;
  let f: ReturnType<typeof foldChannels>;
  for (;;) {
    try {
      f = foldChannels(l, input.scale, affine, bounds, out, shiftF);
      break;
    } catch (e) {
      if (!(e instanceof Refused) || shiftF === 0) throw e;
      shiftF--;
    }
  }
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
  if (KH !== KW || KH % 2 !== 1) throw new Refused(`${l.name}: ${KH}x${KW} kernel`);
  const pad = (KH - 1) / 2;
  return {
    name: l.name,
    weight: l.weight.data,
    weightShape: [K, C, KH, KW],
    wZeroPoint: l.weight.zeroPoint,
    bias: f.convBias,
    stride: [stride, stride],
    padding: [pad, pad],
    input,
    epilogue,
    unit: out.unit,
    bound: f.bound,
  };
}

function layer(weights: ReadonlyMap<string, QuantWeightLayer>, name: string): QuantWeightLayer {
  const l = weights.get(name);
  if (!l) throw new Refused(`${name}: not quantized`);
  return l;
}

const sameCodes = (x: ActCodes, y: ActCodes): boolean => x.scale === y.scale && x.zeroPoint === y.zeroPoint && x.qmax === y.qmax;

/** Tries fine bits k from kMax down; the first k whose build succeeds wins. */
function withFineBits<T>(what: string, kMax: number, build: (k: number) => T): T {
  let last = "";
  for (let k = kMax; k >= FINE_BITS_MIN; k--) {
    try {
      return build(k);
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      last = e.message;
    }
  }
  throw new Refused(`${what}: no residual precision between ${FINE_BITS_MIN} and ${kMax} fine bits fits int32 (${last})`);
}

/** The rescale of a residual of unit uIn into units uOut (identity / option A shortcuts). */
function rescale(uIn: number, uOut: number): { shortcut: EpilogueShortcut; bound: number } {
  const m = multiplierOf(uIn / uOut);
  if (RESIDUAL_MAX * 2 ** m.left > INT32_MAX) throw new Refused(`shortcut rescale ${uIn / uOut} needs too large a left shift`);
  const bound = RESIDUAL_MAX * Math.abs(m.real) + 1;
  if (bound > TERM_LIMIT) throw new Refused(`shortcut rescale ${uIn / uOut} exceeds the term limit`);
  return { shortcut: { kind: "rescale", multiplier: m.multiplier, shift: m.shift }, bound };
}

/** The main path convs, their BNs and strides (resnet_blocks.ts: basic strides conv1, bottleneck conv2). */
function mainPath(b: BlockSpec): { conv: string; bn: string; stride: number }[] {
  const n = b.type === "basic" ? 2 : 3;
  const strided = b.type === "basic" ? 0 : 1;
  return Array.from({ length: n }, (_, i) => ({ conv: `${b.name}.conv${i + 1}`, bn: `${b.name}.bn${i + 1}`, stride: i === strided ? b.stride : 1 }));
}

/**
 * The fused plan of `model` quantized as `weights`, or the reason it cannot be fused (then the caller runs the
 * unfused integer path).
 * @example const r = planFusedResNet(model, q.weights); if (r.plan) runFusedResNet(r.plan, ...)
 */
export function planFusedResNet(model: ResNet, weights: ReadonlyMap<string, QuantWeightLayer>): PlanResult {
  try {
    return { plan: buildPlan(model, weights), reason: null };
  } catch (e) {
    if (e instanceof Refused) return { plan: null, reason: e.message };
    throw e;
  }
}

function buildPlan(model: ResNet, weights: ReadonlyMap<string, QuantWeightLayer>): FusedResNetPlan {
  const blocks = model.blocks;
  const flat = blocks.flat();
  const stemLayer = layer(weights, "conv1");
  if (stemLayer.input.kind !== "uniform") throw new Refused("conv1: the input quantizer is not uniform");
  const head = layer(weights, model.headName);
  const headCodes = actCodes(head);
  // the codes each residual tensor feeds: block i's conv1 (tensor i is block i's input; the last feeds the head)
  const consumer = (i: number): ActCodes => (i < flat.length ? actCodes(layer(weights, `${flat[i].name}.conv1`)) : headCodes);
  const residualOut = (i: number, k: number): { unit: number; codes: { exponent: number; input: ActCodes } | null } => ({
    unit: consumer(i).scale / 2 ** k,
    codes: i < flat.length ? { exponent: k, input: consumer(i) } : null,
  });

  const kMax = (i: number): number => fineBitsMax(consumer(i).qmax);
  const stem = withFineBits("conv1", kMax(0), (k) => {
    const o = residualOut(0, k);
    return foldConv(model, stemLayer, "bn1", model.config.variant === "cifar" ? 1 : 2, { ...o, relu: true, shortcut: { kind: "none" }, shortcutBound: 0, lo: 0, hi: RESIDUAL_MAX, values: true });
  });
  let inUnit = stem.unit;
  let index = 0;
  const stages: FusedBlock[][] = [];
  const stageUnits: number[] = [];
  for (const stage of blocks) {
    const out: FusedBlock[] = [];
    for (const b of stage) {
      index++;
      const path = mainPath(b);
      const convs: FusedConv[] = [];
      // inner convs: ReLU, codes of the next conv's input
      for (let j = 0; j + 1 < path.length; j++) {
        const next = actCodes(layer(weights, path[j + 1].conv));
        const l = layer(weights, path[j].conv);
        const codes = { exponent: 0, input: next };
        convs.push(foldConv(model, l, path[j].bn, path[j].stride, { unit: next.scale, relu: true, shortcut: { kind: "none" }, shortcutBound: 0, lo: 0, hi: next.qmax, values: false, codes }));
      }
      const last = path[path.length - 1];
      const uIn = inUnit;
      const built = withFineBits(b.name, kMax(index), (k) => {
        const o = residualOut(index, k);
        let shortcut: FusedShortcut;
        let sc: { shortcut: EpilogueShortcut; bound: number };
        if (b.shortcut === "conv") {
          const ds = foldConv(model, layer(weights, `${b.name}.downsample.0`), `${b.name}.downsample.1`, b.stride, {
            unit: o.unit,
            relu: false,
            shortcut: { kind: "none" },
            shortcutBound: 0,
            lo: -TERM_LIMIT,
            hi: TERM_LIMIT,
            values: true,
            codes: null,
          });
          shortcut = { kind: "conv", conv: ds };
          sc = { shortcut: { kind: "add" }, bound: TERM_LIMIT };
        } else {
          shortcut = b.shortcut === "identity" ? { kind: "identity" } : { kind: "optionA", stride: b.stride, before: Math.floor((b.planes - b.inPlanes) / 2) };
          sc = rescale(uIn, o.unit);
        }
        const end = foldConv(model, layer(weights, last.conv), last.bn, last.stride, {
          ...o,
          relu: true,
          shortcut: sc.shortcut,
          shortcutBound: sc.bound,
          lo: 0,
          hi: RESIDUAL_MAX,
          values: true,
        });
        return { end, shortcut };
      });
      convs.push(built.end);
      let shortcutCodes: EpilogueSpec | null = null;
      if (built.shortcut.kind === "conv") {
        const dsIn = built.shortcut.conv.input;
        const c1 = convs[0].input;
        if (!sameCodes(dsIn, c1)) shortcutCodes = recodeSpec(uIn, dsIn, built.shortcut.conv.weightShape[1]);
      }
      out.push({ spec: b, convs, shortcut: built.shortcut, shortcutCodes });
      inUnit = built.end.unit;
    }
    stages.push(out);
    stageUnits.push(inUnit);
  }
  return { input: stemLayer.input.params, stem, maxPool: model.config.variant !== "cifar", stages, stageUnits };
}

/** Codes of another quantizer from residual values of unit u: clamp(MBQM(r, u / s) + z), one channel rule for all. */
function recodeSpec(u: number, to: ActCodes, channels: number): EpilogueSpec {
  const m = multiplierOf(u / to.scale);
  if (RESIDUAL_MAX * 2 ** m.left > INT32_MAX) throw new Refused("shortcut codes: rescale needs too large a left shift");
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
