// Domain-shift detection (zoa-method.md section 6): per-channel mean m_c and variance v_c of the input
// embedding of each batch (ViT: patch tokens after patch + position embedding; ResNet: stem-conv output),
// compared with a running domain statistic (EMA 0.8 old + 0.2 new) by the symmetric KL of diagonal Gaussians:
//   d = mean_c[ (v_d + (m_d - m_c)^2) / (2 v_c) + (v_c + (m_d - m_c)^2) / (2 v_d) - 1 ]
// A shift fires when d > threshold; the running statistic then restarts from the current batch.
import type { Features } from "../models/model.js";
import type { Tensor } from "../tensor/tensor.js";

const EPS = 1e-8;

/** Channel statistics of an embedding: ViT [N, T, D] over N and T; ResNet [N, C, H, W] over N, H, W (unbiased variance). */
export function embedStats(embed: Tensor): EmbedMoments {
  const vit = embed.rank === 3;
  const C = vit ? embed.shape[2] : embed.shape[1];
  const inner = vit ? 1 : embed.shape[2] * embed.shape[3]; // consecutive values of one channel
  const mean = new Float64Array(C);
  const sq = new Float64Array(C);
  const count = embed.size / C;
  const x = embed.data;
  for (let o = 0, i = 0; i < x.length; o = (o + 1) % C) {
    let s = 0;
    let q = 0;
    for (const end = i + inner; i < end; i++) {
      s += x[i];
      q += x[i] * x[i];
    }
    mean[o] += s;
    sq[o] += q;
  }
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    mean[c] /= count;
    variance[c] = Math.max(0, (sq[c] - count * mean[c] * mean[c]) / Math.max(1, count - 1));
  }
  return { mean, variance };
}

/** Per-channel mean and unbiased variance of an embedding. */
export interface EmbedMoments {
  mean: Float64Array;
  variance: Float64Array;
}

/** The moments of features.embed: the executor's own (Features.embedMoments) where it has them, else from the tensor. */
export function featureEmbedMoments(f: Features): EmbedMoments {
  return f.embedMoments ?? embedStats(f.embed);
}

export function symmetricKL(md: ArrayLike<number>, vd: ArrayLike<number>, mc: ArrayLike<number>, vc: ArrayLike<number>): number {
  let d = 0;
  for (let c = 0; c < md.length; c++) {
    const dm2 = (md[c] - mc[c]) ** 2;
    d += (vd[c] + dm2) / (2 * vc[c] + EPS) + (vc[c] + dm2) / (2 * vd[c] + EPS) - 1;
  }
  return d / md.length;
}

export interface ShiftObservation {
  distance: number | null;
  shifted: boolean;
}

export class ShiftDetector {
  // Running statistics are stored in float32 so a saved state (F32 tensors) resumes bit for bit.
  mean: Float32Array | null = null;
  variance: Float32Array | null = null;

  constructor(
    readonly threshold: number,
    readonly minBatch = 64,
    readonly ema = 0.8,
  ) {}

  /** Updates the running statistic with this batch's embedding and says whether the domain changed. */
  observe(embed: Tensor): ShiftObservation {
    if (embed.shape[0] < this.minBatch) return { distance: null, shifted: false };
    return this.observeMoments(embedStats(embed), embed.shape[0]);
  }

  /** observe() from a forward's features: the executor's embed moments where it has them (no embed tensor made). */
  observeFeatures(f: Features, batch: number): ShiftObservation {
    if (batch < this.minBatch) return { distance: null, shifted: false };
    return this.observeMoments(featureEmbedMoments(f), batch);
  }

  /** observe() from the moments of a batch of `batch` samples. */
  observeMoments({ mean, variance }: EmbedMoments, batch: number): ShiftObservation {
    if (batch < this.minBatch) return { distance: null, shifted: false };
    if (!this.mean || !this.variance) {
      this.mean = Float32Array.from(mean);
      this.variance = Float32Array.from(variance);
      return { distance: null, shifted: false };
    }
    const distance = symmetricKL(this.mean, this.variance, mean, variance);
    if (distance > this.threshold) {
      this.mean = Float32Array.from(mean);
      this.variance = Float32Array.from(variance);
      return { distance, shifted: true };
    }
    for (let c = 0; c < mean.length; c++) {
      this.mean[c] = this.ema * this.mean[c] + (1 - this.ema) * mean[c];
      this.variance[c] = this.ema * this.variance[c] + (1 - this.ema) * variance[c];
    }
    return { distance, shifted: false };
  }

  reset(): void {
    this.mean = null;
    this.variance = null;
  }

  bytes(): number {
    return this.mean ? this.mean.length * 8 : 0;
  }
}
