// Domain-shift detection (zoa-method.md section 6): per-channel mean m_c and variance v_c of the input
// embedding of each batch (ViT: patch tokens after patch + position embedding; ResNet: stem-conv output),
// compared with a running domain statistic (EMA 0.8 old + 0.2 new) by the symmetric KL of diagonal Gaussians:
//   d = mean_c[ (v_d + (m_d - m_c)^2) / (2 v_c) + (v_c + (m_d - m_c)^2) / (2 v_d) - 1 ]
// A shift fires when d > threshold; the running statistic then restarts from the current batch.
import type { Tensor } from "../tensor/tensor.js";

const EPS = 1e-8;

/** Channel statistics of an embedding: ViT [N, T, D] over N and T; ResNet [N, C, H, W] over N, H, W. */
export function embedStats(embed: Tensor): { mean: Float64Array; variance: Float64Array } {
  let C: number;
  let at: (i: number) => number; // channel of flat index i
  if (embed.rank === 3) {
    C = embed.shape[2];
    at = (i) => i % C;
  } else {
    C = embed.shape[1];
    const plane = embed.shape[2] * embed.shape[3];
    at = (i) => Math.floor(i / plane) % C;
  }
  const mean = new Float64Array(C);
  const sq = new Float64Array(C);
  const count = embed.size / C;
  for (let i = 0; i < embed.size; i++) {
    const c = at(i);
    mean[c] += embed.data[i];
    sq[c] += embed.data[i] * embed.data[i];
  }
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    mean[c] /= count;
    variance[c] = Math.max(0, (sq[c] - count * mean[c] * mean[c]) / Math.max(1, count - 1));
  }
  return { mean, variance };
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
    const { mean, variance } = embedStats(embed);
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
