// ForwardResult of a quantized ResNet from the fused integer pipeline (resnet_run.ts): the input quantized with the
// stem's quantizer, the pipeline's pooled stage outputs as features.stages, the head through the integer LayerOps
// (as the unfused path). features.embed (the stem conv's dequantized output, read by ZOA's shift detector) is computed
// on first read with the unfused integer stem conv, so forwards that never read it do not pay for it.
// BN with running statistics and the stored affines folds once (the plan); BN with the batch's statistics (NormAdapt,
// ZOA on ResNets) and overridden affines (ZOA's fused parameters) refolds every conv's output stage from the batch's
// accumulators during the forward (FusedRunOptions.batchStats). fusedMode says which applies.
import type { LayerOps } from "../../models/layers.js";
import { type Features, type ForwardOptions, type ForwardResult, normAffine } from "../../models/model.js";
import type { ResNet } from "../../models/resnet.js";
import { add } from "../../tensor/ops/elementwise.js";
import { Tensor } from "../../tensor/tensor.js";
import { validateQParams } from "../qtensor.js";
import type { FusedCheckpoint } from "./resnet_checkpoint.js";
import { realMoments } from "./resnet_fold.js";
import type { AccSums } from "./resnet_ops.js";
import type { FusedConv, FusedResNetPlan } from "./resnet_plan.js";
import type { Dims4 } from "./resnet_reference.js";
import { type BnAffineSource, type FusedRunOptions, runFusedResNet } from "./resnet_run.js";

/**
 * How a forward with these options may take the fused pipeline: "running" (the plan's folded BN: running statistics,
 * stored affines), "batch" (batch statistics, stored or overridden affines, refolded per forward) or null (per-sample
 * affines and prompt tokens run layer by layer; so do overrides with running statistics, which no method uses).
 */
export function fusedMode(opts: ForwardOptions): "running" | "batch" | null {
  if ((opts.normPerSample?.size ?? 0) > 0 || opts.promptTokens !== undefined) return null;
  if (opts.bnStats === "batch") return "batch";
  return (opts.normOverrides?.size ?? 0) === 0 ? "running" : null;
}

/** The BN affines a batch-statistics forward folds (opts.normOverrides where given, else the model's), with opts.bnPrior. */
export function bnAffineSource(model: ResNet, opts: ForwardOptions): BnAffineSource {
  return (bn) => {
    const { weight, bias } = normAffine(model.params, bn, opts);
    return { weight: weight?.data ?? null, bias: bias?.data ?? null, prior: opts.bnPrior?.get(bn) };
  };
}

/**
 * Flat index of the first block with an overridden BN (ZOA's adapted layers: the blocks before it are the same in
 * both of its passes), 0 when the stem's is, -1 without overrides (nothing to resume).
 */
function firstOverriddenBlock(plan: FusedResNetPlan, opts: ForwardOptions): number {
  const o = opts.normOverrides;
  if (!o || o.size === 0) return -1;
  if (o.has(plan.stem.bn)) return 0;
  const blocks = plan.stages.flat();
  for (let j = 0; j < blocks.length; j++) {
    const b = blocks[j];
    const convs = b.shortcut.kind === "conv" ? [...b.convs, b.shortcut.conv] : b.convs;
    if (convs.some((fc) => o.has(fc.bn))) return j;
  }
  return -1;
}

/**
 * Moments of the stem conv's output (features.embed, real = sA sW[c] acc) from its accumulator sums: the mean and
 * the unbiased variance the shift detector's embedStats would compute from the dequantized tensor (up to its float32
 * rounding), without making that tensor.
 */
function embedMoments(stem: FusedConv, sums: AccSums): { mean: Float64Array; variance: Float64Array } {
  const m = realMoments(stem, sums);
  const n = sums.count;
  return { mean: m.mean, variance: m.variance.map((v) => (v * n) / Math.max(1, n - 1)) };
}

/**
 * The forward result of `model` on x [N, 3, H, W] via the fused pipeline; `integer` runs the head and the lazy embed.
 * opts.bnStats "batch" takes the batch-statistics mode (fusedMode must not be null).
 */
export function fusedResNetForward(
  model: ResNet,
  plan: FusedResNetPlan,
  integer: LayerOps,
  x: Tensor,
  opts: ForwardOptions,
  run: FusedRunOptions = {},
  checkpoint?: FusedCheckpoint,
): ForwardResult {
  const n = x.shape[0];
  validateQParams("fusedResNetForward", plan.input, [1]);
  let stem: AccSums | null = null;
  let mode = run;
  if (opts.bnStats === "batch") {
    const block = checkpoint ? firstOverriddenBlock(plan, opts) : -1;
    mode = { ...run, batchStats: bnAffineSource(model, opts), onBnStats: opts.onBnStats, onStemSums: (s: AccSums) => (stem = s) };
    if (checkpoint && block > 0) mode.checkpoint = { cache: checkpoint, block };
  }
  const pooled = runFusedResNet(plan, x.data, x.shape as unknown as Dims4, mode); // quantized pass by pass
  const stages = pooled.map((p) => new Tensor([n, p.length / n], p));
  const final = stages[stages.length - 1];
  const logits = model.headLogits(final, integer);
  const shiftedLogits = opts.featureShift ? model.headLogits(add(final, opts.featureShift), integer) : undefined;
  let embed: Tensor | null = null;
  const features: Features = {
    get embed(): Tensor {
      embed ??= integer.conv2d("conv1", x, model.params.get("conv1.weight"), model.params.maybe("conv1.bias"), { stride: plan.stem.stride, padding: plan.stem.padding });
      return embed;
    },
    stages,
    final,
  };
  if (stem) features.embedMoments = embedMoments(plan.stem, stem);
  return { logits, shiftedLogits, features };
}
