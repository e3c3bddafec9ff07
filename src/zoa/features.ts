// Feature statistics for the adaptation losses (zoa-method.md sections 4 and 7).
// ViT: the stacked class-token features [N, depth*D]; ResNet: each stage's pooled output [N, C_s].
// Source statistics (per-dim mean and unbiased std, and the mean of the head's input feature) are computed once
// on clean images through the deployed (quantized) model.
import { type ImageSet, normalizeBatch } from "../data/cifar_format.js";
import type { Features } from "../models/model.js";
import { Tensor } from "../tensor/tensor.js";
import type { Predictor } from "./adapter.js";

export interface MomentStats {
  mean: Float64Array;
  std: Float64Array;
}

export interface SourceStats {
  /** One entry per loss group: ViT one group (all blocks' CLS), ResNet one per stage. */
  groups: MomentStats[];
  /** Mean of features.final (the head input), for activation shifting. */
  finalMean: Float32Array;
  images: number;
}

/** Feature groups of a forward pass as [N, dims] tensors. */
export function featureGroups(f: Features): Tensor[] {
  return f.stages.map((s) => (s.rank === 3 ? s.reshape([s.shape[0], s.shape[1] * s.shape[2]]) : s));
}

/** Per-dim mean and unbiased std over the batch of x [N, D] (float64). */
export function moments(x: Tensor): MomentStats {
  const [N, D] = x.shape;
  const mean = new Float64Array(D);
  const std = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) mean[d] += x.data[n * D + d];
  for (let d = 0; d < D; d++) mean[d] /= N;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const v = x.data[n * D + d] - mean[d];
      std[d] += v * v;
    }
  }
  for (let d = 0; d < D; d++) std[d] = Math.sqrt(std[d] / Math.max(1, N - 1));
  return { mean, std };
}

/**
 * Source statistics over the first `count` images of `set` (batches of `batch`). `bnStats` is the BatchNorm
 * mode of the forward passes (no effect on a ViT). Decision: by default a ResNet's source statistics are taken
 * with batch statistics, the mode ZOA-ResNet (and NormAdapt) run in, so the feature targets and the activation
 * shift compare like with like; with the running statistics the shift cost ResNet-20 W6A6 0.5 points (measured
 * with tools/measure/zoa_variants.ts, 256 images per corruption: 60.47 vs 61.09, NormAdapt 61.04).
 */
export function sourceStatistics(
  p: Predictor,
  set: ImageSet,
  count: number,
  batch = 64,
  bnStats: "running" | "batch" = p.model.kind === "vit" ? "running" : "batch",
): SourceStats {
  const n = Math.min(count, set.count);
  let sums: { s: Float64Array; ss: Float64Array }[] | null = null;
  let finalSum: Float64Array | null = null;
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    const x = normalizeBatch(set, start, b, p.model.mean, p.model.std);
    const { features } = p.model.forward(x, { layers: p.layers, bnStats });
    const groups = featureGroups(features);
    sums ??= groups.map((g) => ({ s: new Float64Array(g.shape[1]), ss: new Float64Array(g.shape[1]) }));
    groups.forEach((g, i) => {
      const D = g.shape[1];
      for (let r = 0; r < b; r++) {
        for (let d = 0; d < D; d++) {
          const v = g.data[r * D + d];
          sums![i].s[d] += v;
          sums![i].ss[d] += v * v;
        }
      }
    });
    const F = features.final.shape[1];
    finalSum ??= new Float64Array(F);
    for (let r = 0; r < b; r++) for (let d = 0; d < F; d++) finalSum[d] += features.final.data[r * F + d];
  }
  if (!sums || !finalSum) throw new RangeError("sourceStatistics: no images");
  const groups = sums.map(({ s, ss }) => {
    const mean = s.map((v) => v / n);
    const std = ss.map((v, d) => Math.sqrt(Math.max(0, (v - n * mean[d] * mean[d]) / Math.max(1, n - 1))));
    return { mean, std };
  });
  return { groups, finalMean: Float32Array.from(finalSum, (v) => v / n), images: n };
}

function mse(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

/** D = average over groups of MSE(std_batch, std_S) + MSE(mean_batch, mean_S) (zoa-method.md section 4). */
export function statDiscrepancy(f: Features, src: SourceStats): number {
  const groups = featureGroups(f);
  let d = 0;
  groups.forEach((g, i) => {
    const m = moments(g);
    d += mse(m.std, src.groups[i].std) + mse(m.mean, src.groups[i].mean);
  });
  return d / groups.length;
}

/** Mean over the batch of the softmax entropy -sum p log p of logits [N, K]. */
export function meanEntropy(logits: Tensor): number {
  const [N, K] = logits.shape;
  let total = 0;
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits.data[n * K + k]);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(logits.data[n * K + k] - max);
    const logZ = Math.log(z);
    let h = 0;
    for (let k = 0; k < K; k++) {
      const lp = logits.data[n * K + k] - max - logZ;
      h -= Math.exp(lp) * lp;
    }
    total += h;
  }
  return total / N;
}

/** Batch mean of features.final [N, D]. */
export function batchMean(x: Tensor): Float32Array {
  const [N, D] = x.shape;
  const m = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) m[d] += x.data[n * D + d];
  return Float32Array.from(m, (v) => v / N);
}

/** head input + (mu_S - mu_hist) for activation shifting, [N, D]. */
export function shiftFeatures(final: Tensor, sourceMean: Float32Array, hist: Float32Array): Tensor {
  const [N, D] = final.shape;
  const out = new Float32Array(final.size);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) out[n * D + d] = final.data[n * D + d] + (sourceMean[d] - hist[d]);
  return new Tensor(final.shape, out);
}
