// ZOA configurations beyond the paper, each keeping exactly two forward passes per batch and no backprop.
// `spec` is zoa-method.md as written; the others change only the optimiser side of the SPSA step.
import type { ModelKind } from "../models/model.js";
import type { ZoaConfig } from "./zoa.js";

export const ZOA_VARIANTS = ["spec", "momentum", "grouped", "sign", "population", "stats", "mirror"] as const;
export type ZoaVariantName = (typeof ZOA_VARIANTS)[number];

/** The default variant of `zoa adapt` (the best one measured; see the README's ZOA section). */
export const DEFAULT_ZOA_VARIANT: ZoaVariantName = "mirror";

/** The configuration of variant `name` for a model of kind `kind`, built on `spec`; always a new object. */
export function zoaVariantConfig(name: ZoaVariantName, spec: ZoaConfig, kind: ModelKind): ZoaConfig {
  switch (name) {
    case "spec":
      return { ...spec };
    case "momentum":
      // Averages the SPSA estimates of successive batches (an EMA), which cuts the variance of a single
      // two-pass estimate over hundreds of scalars, and allows a larger step.
      return { ...spec, variant: "momentum", gradMomentum: 0.9, lr: spec.lr * 5 };
    case "grouped":
      // Momentum plus fewer perturbation coordinates: 8 channels of a layer's weight (or bias) move together,
      // so one estimate covers 8x fewer directions (lower variance per coordinate).
      return { ...spec, variant: "grouped", gradMomentum: 0.9, groupSize: 8, lr: spec.lr * 5 };
    case "sign":
      // ZO-signSGD with momentum: steps of fixed size in the sign of the averaged estimate (robust to the
      // heavy-tailed noise of (L1 - L2) / (c u)).
      return { ...spec, variant: "sign", gradMomentum: 0.9, signStep: true, lr: 2e-4 };
    case "population":
      // Momentum plus the population estimate (population.ts): the perturbed pass gives each of 64 groups of
      // samples (one sample each at batch 64) its own perturbation, and the 64 paired estimates are averaged,
      // so the step can be 20x the spec's (ResNet) / 5x (ViT) without the collapse a larger spec step shows.
      return { ...spec, variant: "population", gradMomentum: 0.9, population: 64, lr: spec.lr * (kind === "vit" ? 5 : 20) };
    case "stats":
      // The spec plus BN statistics averaged over the batches of a domain (an EMA with weight 0.75 on the history,
      // restarted at each detected shift): 64 samples give noisy per-channel means and variances, and a batch of 256
      // lifts NormAdapt itself by ~0.8 points on ResNet-20 W6A6. No effect on LayerNorm models (ViT: the spec).
      return { ...spec, variant: "stats", statsMomentum: 0.75 };
    case "mirror":
      // The spec, with its perturbed pass on the horizontally mirrored batch and the prediction averaging both
      // passes' logits (zoa.ts ZoaConfig.mirror): still two passes, no backprop; the second pass is put to work for
      // the prediction too. For models trained with random horizontal flips (the CIFAR and demo models here).
      return { ...spec, variant: "mirror", mirror: true };
    default:
      return name satisfies never;
  }
}
