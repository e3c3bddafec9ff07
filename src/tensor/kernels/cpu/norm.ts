// Normalisation kernels.
// layerNorm: over the last dim D of x [R, D]: y = (x - mean) / sqrt(var + eps) * weight + bias, var biased.
// batchNorm: per channel c of x [N, C, S...]: y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c].
import type { KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";

export function layerNorm({ x, weight, bias }: KernelSpecs["layerNorm"]["inputs"], { eps }: KernelSpecs["layerNorm"]["attrs"]): Tensor {
  const D = x.shape[x.rank - 1];
  const R = D === 0 ? 0 : x.size / D;
  const out = new Tensor(x.shape);
  const src = x.data;
  const o = out.data;
  const w = weight?.data;
  const b = bias?.data;
  for (let r = 0; r < R; r++) {
    const base = r * D;
    let mean = 0;
    for (let i = 0; i < D; i++) mean += src[base + i];
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) {
      const d = src[base + i] - mean;
      v += d * d;
    }
    const inv = 1 / Math.sqrt(v / D + eps);
    for (let i = 0; i < D; i++) {
      let y = (src[base + i] - mean) * inv;
      if (w) y *= w[i];
      if (b) y += b[i];
      o[base + i] = y;
    }
  }
  return out;
}

export function batchNorm(
  { x, mean, variance, weight, bias }: KernelSpecs["batchNorm"]["inputs"],
  { eps }: KernelSpecs["batchNorm"]["attrs"],
): Tensor {
  const N = x.shape[0];
  const C = x.shape[1];
  const S = x.size / Math.max(1, N * C);
  const out = new Tensor(x.shape);
  const src = x.data;
  const o = out.data;
  for (let c = 0; c < C; c++) {
    // y = x * scale + shift, with scale = w / sqrt(var + eps), shift = b - mean * scale.
    const inv = 1 / Math.sqrt(variance.data[c] + eps);
    const scale = (weight ? weight.data[c] : 1) * inv;
    const shift = (bias ? bias.data[c] : 0) - mean.data[c] * scale;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) o[base + s] = src[base + s] * scale + shift;
    }
  }
  return out;
}
