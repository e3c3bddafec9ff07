// ForwardResult of a quantized ResNet from the fused integer pipeline (resnet_run.ts): the input quantized with the
// stem's quantizer, the pipeline's pooled stage outputs as features.stages, the head through the integer LayerOps
// (as the unfused path). features.embed (the stem conv's dequantized output, read by ZOA's shift detector) is computed
// on first read with the unfused integer stem conv, so forwards that never read it do not pay for it.
// Only for running BN statistics and unmodified norm affines: fusableOptions says when.
import type { LayerOps } from "../../models/layers.js";
import type { Features, ForwardOptions, ForwardResult } from "../../models/model.js";
import type { ResNet } from "../../models/resnet.js";
import { add } from "../../tensor/ops/elementwise.js";
import { Tensor } from "../../tensor/tensor.js";
import { validateQParams } from "../qtensor.js";
import type { FusedResNetPlan } from "./resnet_plan.js";
import type { Dims4 } from "./resnet_reference.js";
import { type FusedRunOptions, runFusedResNet } from "./resnet_run.js";

/**
 * Whether a forward with these options may take the fused pipeline: BN folded with its running statistics is wrong
 * under batch statistics (NormAdapt, ZOA-ResNet) and under overridden or per-sample norm affines (ZOA, FOA variants).
 */
export function fusableOptions(opts: ForwardOptions): boolean {
  return (opts.normOverrides?.size ?? 0) === 0 && (opts.normPerSample?.size ?? 0) === 0 && opts.bnStats !== "batch" && opts.promptTokens === undefined;
}

/** The forward result of `model` on x [N, 3, H, W] via the fused pipeline; `integer` runs the head and the lazy embed. */
export function fusedResNetForward(
  model: ResNet,
  plan: FusedResNetPlan,
  integer: LayerOps,
  x: Tensor,
  opts: ForwardOptions,
  run: FusedRunOptions = {},
): ForwardResult {
  const n = x.shape[0];
  validateQParams("fusedResNetForward", plan.input, [1]);
  const pooled = runFusedResNet(plan, x.data, x.shape as unknown as Dims4, run); // quantized pass by pass
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
  return { logits, shiftedLogits, features };
}
