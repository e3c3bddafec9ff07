// What every classifier in src/models offers: a forward pass that also returns the features the
// adaptation methods need, with hooks to swap layer execution (quantization), override norm affines
// (ZOA's fused parameters) and use batch statistics in BatchNorm (NormAdapt).
import type { Tensor } from "../tensor/tensor.js";
import type { LayerOps } from "./layers.js";
import type { ParamMap } from "./params.js";

export type ModelKind = "vit" | "cifar_resnet" | "resnet";

/** Affine parameters of one norm layer (LayerNorm or BatchNorm), both [C]. */
export interface NormAffine {
  weight: Tensor;
  bias: Tensor;
}

/** Per-channel mean and biased variance of a BN layer's input over a batch, [C] each. */
export interface BnMoments {
  mean: Float64Array;
  variance: Float64Array;
}

/** Statistics blended into a BN layer's batch statistics with this weight in [0, 1]. */
export interface BnPrior extends BnMoments {
  weight: number;
}

/** The statistics a batch-statistics BN normalises with: the batch's, or blended with a prior. */
export function blendMoments(batch: BnMoments, prior: BnPrior | undefined): BnMoments {
  if (!prior || prior.weight === 0) return batch;
  const w = prior.weight;
  return { mean: batch.mean.map((v, c) => (1 - w) * v + w * prior.mean[c]), variance: batch.variance.map((v, c) => (1 - w) * v + w * prior.variance[c]) };
}

export interface NormLayerInfo {
  /** State-dict prefix, e.g. "blocks.1.norm1" or "layer2.0.bn1". */
  name: string;
  kind: "layernorm" | "batchnorm";
  channels: number;
}

export interface ForwardOptions {
  /** Execution of conv / linear / attention matmuls (default: float). */
  layers?: LayerOps;
  /** Replaces the affine (weight, bias) of the named norm layers; weights are not copied. */
  normOverrides?: ReadonlyMap<string, NormAffine>;
  /**
   * Per-sample affine of the named norm layers: weight and bias [N, C], row n used for sample n (takes precedence
   * over `normOverrides` for that layer; batch statistics are still taken over the whole batch).
   */
  normPerSample?: ReadonlyMap<string, NormAffine>;
  /** BatchNorm statistics: the stored running ones (default) or the current batch's (NormAdapt / ZOA-ResNet). */
  bnStats?: "running" | "batch";
  /**
   * With batch statistics: per named BN layer, normalise with (1 - weight) * batch + weight * prior, for the mean and
   * the variance alike (real units), instead of the batch's alone (ZOA's statistics-averaging variants).
   */
  bnPrior?: ReadonlyMap<string, BnPrior>;
  /** With batch statistics: receives every BN layer's batch mean and biased variance (real units), in forward order. */
  onBnStats?: (name: string, m: BnMoments) => void;
  /** ViT only: prompt tokens [P, D] inserted after the class token (FOA). */
  promptTokens?: Tensor;
  /** Activation shifting (FOA/ZOA): also compute head(final + featureShift) as `shiftedLogits`, [D]. */
  featureShift?: Tensor;
}

export interface Features {
  /**
   * Input embedding used for domain-shift statistics. ViT: patch tokens after patch embedding + position
   * embedding, class token (and prompts) excluded, [N, T, D]. ResNet: stem-conv output, [N, C, H, W].
   */
  embed: Tensor;
  /**
   * Per-channel mean and unbiased variance of `embed` (over N, H, W), where the executor has them without making
   * `embed` (the fused integer ResNet pipeline, from the stem conv's accumulators); the shift detector reads these.
   */
  embedMoments?: { mean: Float64Array; variance: Float64Array };
  /**
   * Per-stage summary features. ViT: for each block i, the class token after block i passed through block
   * i+1's norm1 (the last through the final norm), [N, depth, D]. ResNet: each stage's global-average-pooled
   * output, one [N, C_s] tensor per stage.
   */
  stages: Tensor[];
  /** The feature the head reads: ViT final-norm class token, ResNet pooled last stage, [N, D]. */
  final: Tensor;
}

export interface ForwardResult {
  /** head(final): [N, classes]. */
  logits: Tensor;
  /** head(final + featureShift), only when `featureShift` was given. */
  shiftedLogits?: Tensor;
  features: Features;
}

export interface Classifier {
  readonly kind: ModelKind;
  readonly name: string;
  readonly params: ParamMap;
  readonly numClasses: number;
  /** Input image size (square) and the per-channel normalisation applied to x/255. */
  readonly imageSize: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Every norm layer in forward order. */
  readonly normLayers: readonly NormLayerInfo[];
  /** Names of conv / linear layers in forward order (for quantization). */
  readonly weightLayers: readonly string[];
  /** Names of activation x activation matmuls (ViT attention), for quantization. */
  readonly matmulLayers: readonly string[];
  /** Head: linear layer name reading `features.final`. */
  readonly headName: string;
  forward(x: Tensor, opts?: ForwardOptions): ForwardResult;
  /** The head alone on features [N, D] (for activation shifting after the forward pass). */
  headLogits(final: Tensor, layers?: LayerOps): Tensor;
}

/** The affine to use for norm layer `name`: the override if any, else the stored parameters. */
export function normAffine(params: ParamMap, name: string, opts: ForwardOptions): { weight: Tensor | null; bias: Tensor | null } {
  const o = opts.normOverrides?.get(name);
  if (o) return o;
  return { weight: params.maybe(`${name}.weight`), bias: params.maybe(`${name}.bias`) };
}
