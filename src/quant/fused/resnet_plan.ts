// Plans the fused integer pipeline of a quantized ResNet with running BN statistics (TFLite style): every conv's BN
// (eval mode) and the next quantizer are folded into its int32 output stage (kernels/cpu/qepilogue.ts), keeping
// the quantization points of the simulated mode (weights stay as PTQ quantized them, unfolded; each conv reads codes of
// its own input quantizer). Per conv, with a = gamma / sqrt(var + eps), b = beta - mean * a, accumulator unit
// u_acc[c] = sA * sW[c] * a[c] (real value of one accumulator step after BN) and F fraction bits of the accumulator
// (up to 15, as many as its bound allows: 8-10 at W8A8, more at W6A6 / W4A4 where one accumulator step is a large
// fraction of a code) so the BN offset is kept to 2^-F of an accumulator step:
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
// layer), which the exact integer pipeline does not share (figures: README, test/quant/fused_resnet.test.ts).
// One conv's fold: resnet_fold.ts; this file walks the network and picks the residual units.
import type { ResNet } from "../../models/resnet.js";
import type { BlockSpec } from "../../models/resnet_blocks.js";
import type { EpilogueShortcut, EpilogueSpec } from "../kernels/cpu/qepilogue.js";
import type { QuantWeightLayer } from "../ptq.js";
import type { QParams } from "../qtensor.js";
import { type ActCodes, type FusedConv, PlanRefused, RESIDUAL_MAX, TERM_LIMIT, actCodes, foldConv, recodeSpec, rescale } from "./resnet_fold.js";

export { PlanRefused, RESIDUAL_MAX, TERM_LIMIT, type ActCodes, type FusedConv } from "./resnet_fold.js";

/** The residual clamp is at least this many times the next quantizer's range (qmax + 1 codes). */
export const RESIDUAL_HEADROOM = 16;
/** Fewest fine bits of the residual stream (below this the plan is refused). */
export const FINE_BITS_MIN = 4;

/**
 * Fine bits k of a residual feeding codes of qmax: the most that keep RESIDUAL_HEADROOM (8-bit codes: 16, 6-bit: 18,
 * 4-bit: 20). More bits mean fewer codes that differ from a single rounding of the exact value (rate ~ 2^-k).
 */
export function fineBitsMax(qmax: number): number {
  return Math.floor(Math.log2((RESIDUAL_MAX + 1) / (RESIDUAL_HEADROOM * (qmax + 1))));
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

function layer(weights: ReadonlyMap<string, QuantWeightLayer>, name: string): QuantWeightLayer {
  const l = weights.get(name);
  if (!l) throw new PlanRefused(`${name}: not quantized`);
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
      if (!(e instanceof PlanRefused)) throw e;
      last = e.message;
    }
  }
  throw new PlanRefused(`${what}: no residual precision between ${FINE_BITS_MIN} and ${kMax} fine bits fits int32 (${last})`);
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
    if (e instanceof PlanRefused) return { plan: null, reason: e.message };
    throw e;
  }
}

function buildPlan(model: ResNet, weights: ReadonlyMap<string, QuantWeightLayer>): FusedResNetPlan {
  const blocks = model.blocks;
  const flat = blocks.flat();
  const stemLayer = layer(weights, "conv1");
  if (stemLayer.input.kind !== "uniform") throw new PlanRefused("conv1: the input quantizer is not uniform");
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
