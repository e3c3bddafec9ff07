// Checkpoints of trained models: every tensor as F32 safetensors under its state-dict name, with the
// `__metadata__` keys src/models/load.ts reads (arch, mean, std, and for the ViT img_size, patch_size, num_heads,
// mlp_ratio, norm_eps; embed_dim, depth and num_classes for the reader's information), so loadModel(file) gives the
// inference model of the trained weights.
import { type WritableTensor, writeSafetensors } from "../io/safetensors.js";
import type { Classifier } from "../models/model.js";
import { modelFromParams } from "../models/load.js";
import { type TrainModel, stateTensors, toParamMap } from "./models.js";

export interface Normalisation {
  /** Per-channel mean and std applied to x/255 (three values each). */
  mean: readonly number[];
  std: readonly number[];
}

/** The checkpoint's `__metadata__` (all values strings, numbers as JSON). */
export function checkpointMetadata(model: TrainModel, norm: Normalisation, name: string): Record<string, string> {
  const meta: Record<string, string> = { arch: name, mean: JSON.stringify(norm.mean), std: JSON.stringify(norm.std), format: "pt" };
  const a = model.arch;
  if (a.kind === "vit") {
    const c = a.config;
    Object.assign(meta, {
      img_size: String(c.imgSize),
      patch_size: String(c.patchSize),
      embed_dim: String(c.embedDim),
      depth: String(c.depth),
      num_heads: String(c.numHeads),
      mlp_ratio: String(c.mlpRatio),
      norm_eps: String(c.eps),
      num_classes: String(c.numClasses),
    });
  } else {
    Object.assign(meta, { img_size: String(a.config.imageSize), num_classes: String(a.config.numClasses) });
  }
  return meta;
}

/** Writes the model (parameters and BatchNorm running statistics, copied) as safetensors. */
export function saveCheckpoint(file: string, model: TrainModel, norm: Normalisation, name: string): void {
  const tensors: Record<string, WritableTensor> = {};
  for (const [n, t] of stateTensors(model)) tensors[n] = { dtype: "F32", shape: t.shape, data: t.data.slice() };
  writeSafetensors(file, tensors, checkpointMetadata(model, norm, name));
}

/**
 * The inference model (src/models) over the live training tensors, as loadModel would build it from a checkpoint.
 * @example toClassifier(model, norm, "demo").forward(x).logits
 */
export function toClassifier(model: TrainModel, norm: Normalisation, name: string): Classifier {
  return modelFromParams({ file: `<train:${name}>`, metadata: checkpointMetadata(model, norm, name) }, toParamMap(model));
}
