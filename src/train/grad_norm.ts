// Differentiable LayerNorm (last dim) and BatchNorm (channel dim 1), with xhat = (x - mean) / sqrt(var + eps):
// normalised over a set of M values with their own mean/var (LayerNorm rows, BatchNorm with batch statistics):
//   dx = w / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat))      (Ioffe & Szegedy 2015, sec. 3)
// with fixed statistics (BatchNorm eval): dx = g * w / sqrt(var + eps).   Always dw = sum(g * xhat), db = sum(g).
// Sums are accumulated in float64.
import * as N from "../tensor/ops/norm.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, record } from "./autograd.js";

/** LayerNorm over the last dim. x: [..., D], weight/bias: [D]. */
export function layerNorm(x: Var, weight: Var | null, bias: Var | null, eps = 1e-5): Var {
  const y = N.layerNorm(x.value, weight?.value ?? null, bias?.value ?? null, eps);
  const parents = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record("layerNorm", y, parents, (g) => {
    const D = x.shape[x.shape.length - 1];
    const R = D === 0 ? 0 : x.value.size / D;
    const src = x.value.data;
    const w = weight?.value.data;
    const dx = new Tensor(x.shape);
    const dw = new Float64Array(D);
    const db = new Float64Array(D);
    const xhat = new Float64Array(D);
    for (let r = 0; r < R; r++) {
      const base = r * D;
      let mean = 0;
      for (let i = 0; i < D; i++) mean += src[base + i];
      mean /= D;
      let v = 0;
      for (let i = 0; i < D; i++) v += (src[base + i] - mean) ** 2;
      const inv = 1 / Math.sqrt(v / D + eps);
      let sumG = 0;
      let sumGx = 0;
      for (let i = 0; i < D; i++) {
        xhat[i] = (src[base + i] - mean) * inv;
        const gi = g.data[base + i];
        dw[i] += gi * xhat[i];
        db[i] += gi;
        const gh = w ? gi * w[i] : gi; // d loss / d xhat
        sumG += gh;
        sumGx += gh * xhat[i];
      }
      for (let i = 0; i < D; i++) {
        const gh = w ? g.data[base + i] * w[i] : g.data[base + i];
        dx.data[base + i] = inv * (gh - sumG / D - (xhat[i] * sumGx) / D);
      }
    }
    const grads: (Tensor | null)[] = [dx];
    if (weight) grads.push(new Tensor([D], Float32Array.from(dw)));
    if (bias) grads.push(new Tensor([D], Float32Array.from(db)));
    return grads;
  });
}

export interface BatchNormParams {
  weight: Var | null;
  bias: Var | null;
  /** Running statistics [C]: read in eval mode; updated in place in training mode when `momentum` is set. */
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  eps: number;
  /** PyTorch's momentum: running = (1 - m) running + m batch (batch variance unbiased). */
  momentum?: number;
}

/**
 * BatchNorm over channel dim 1 of x [N, C, ...]: with the batch's mean and biased variance (training mode,
 * gradients through the statistics) or with the running statistics (eval mode).
 */
export function batchNorm(x: Var, p: BatchNormParams, useBatchStats: boolean): Var {
  const plain = { weight: p.weight?.value ?? null, bias: p.bias?.value ?? null, eps: p.eps };
  let mean: Tensor;
  let variance: Tensor;
  if (useBatchStats) {
    ({ mean, variance } = N.batchStats(x.value));
    if (p.momentum !== undefined && p.runningMean && p.runningVar) updateRunning(p.runningMean, p.runningVar, mean, variance, x.value.size / x.shape[1], p.momentum);
  } else {
    if (!p.runningMean || !p.runningVar) throw new Error("batchNorm: running statistics missing (use batch statistics instead)");
    mean = p.runningMean;
    variance = p.runningVar;
  }
  // The kernel the plain batchNorm(x, p, useBatchStats) runs, given the same mean and variance.
  const y = N.batchNorm(x.value, { ...plain, runningMean: mean, runningVar: variance }, false);
  const parents = [x, ...(p.weight ? [p.weight] : []), ...(p.bias ? [p.bias] : [])];
  return record("batchNorm", y, parents, (g) => batchNormBackward(g, x.value, mean, variance, p, useBatchStats));
}

function updateRunning(runMean: Tensor, runVar: Tensor, mean: Tensor, variance: Tensor, count: number, m: number): void {
  const unbias = count > 1 ? count / (count - 1) : 1;
  for (let c = 0; c < runMean.size; c++) {
    runMean.data[c] = (1 - m) * runMean.data[c] + m * mean.data[c];
    runVar.data[c] = (1 - m) * runVar.data[c] + m * variance.data[c] * unbias;
  }
}

function batchNormBackward(g: Tensor, x: Tensor, mean: Tensor, variance: Tensor, p: BatchNormParams, batchStats: boolean): (Tensor | null)[] {
  const N = x.shape[0];
  const C = x.shape[1];
  const S = x.size / Math.max(1, N * C);
  const M = N * S;
  const dx = new Tensor(x.shape);
  const dw = new Float32Array(C);
  const db = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const mu = mean.data[c];
    const inv = 1 / Math.sqrt(variance.data[c] + p.eps);
    const w = p.weight ? p.weight.value.data[c] : 1;
    let sumG = 0;
    let sumGx = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) {
        const gi = g.data[base + s];
        sumG += gi;
        sumGx += gi * (x.data[base + s] - mu) * inv;
      }
    }
    dw[c] = sumGx;
    db[c] = sumG;
    const scale = w * inv;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) {
        const gi = g.data[base + s];
        if (!batchStats) dx.data[base + s] = gi * scale;
        else dx.data[base + s] = scale * (gi - sumG / M - ((x.data[base + s] - mu) * inv * sumGx) / M);
      }
    }
  }
  const grads: (Tensor | null)[] = [dx];
  if (p.weight) grads.push(new Tensor([C], dw));
  if (p.bias) grads.push(new Tensor([C], db));
  return grads;
}
