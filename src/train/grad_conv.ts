// Differentiable conv2d (NCHW, stride, zero padding, groups; dilation 1), gradients written with the conv op itself.
// N=batch C=in channels H,W=in spatial K=out channels kh,kw=kernel OH,OW=out spatial G=groups Cg=C/G Kg=K/G s=stride p=padding
//   y[n,k,oy,ox] = b[k] + sum_{c,i,j} x[n, g*Cg + c, oy*s - p + i, ox*s - p + j] w[k,c,i,j]
// dx: the transposed convolution: dy with s-1 zeros inserted between samples, padded by kh-1-p, correlated with
//     w flipped in space and with in/out channels swapped (per group).
// dw: dw[k,c,i,j] = sum_{n,oy,ox} dy[n,k,oy,ox] x[n,c,oy*s - p + i, ...]: a correlation of x with dy, i.e. a conv
//     whose batch is x's channels, whose input channels are the N images and whose kernel is dy dilated by s.
// db: dy summed over n, oy, ox.
import type { Pair } from "../tensor/backend.js";
import * as C from "../tensor/ops/conv.js";
import { concat, permute, slice } from "../tensor/ops/movement.js";
import { sum } from "../tensor/ops/reduce.js";
import { ShapeError } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, record } from "./autograd.js";

export interface Conv2dOptions {
  stride?: number | Pair;
  padding?: number | Pair;
  groups?: number;
}

/** 2-D convolution. x: [N, C, H, W], weight: [K, C/groups, kh, kw], bias: [K] -> [N, K, OH, OW]. */
export function conv2d(x: Var, weight: Var, bias: Var | null = null, opts: Conv2dOptions = {}): Var {
  if ("dilation" in opts) throw new ShapeError("conv2d", "the differentiable conv2d supports dilation 1 only");
  const y = C.conv2d(x.value, weight.value, bias?.value ?? null, opts);
  const stride = C.pair("conv2d", "stride", opts.stride, 1);
  const padding = C.pair("conv2d", "padding", opts.padding, 0);
  const groups = opts.groups ?? 1;
  const parents = bias ? [x, weight, bias] : [x, weight];
  return record("conv2d", y, parents, (g, needs) => [
    needs[0] ? conv2dGradInput(g, weight.value, x.shape, stride, padding, groups) : null,
    needs[1] ? conv2dGradWeight(g, x.value, weight.shape, stride, padding, groups) : null,
    ...(bias ? [needs[2] ? sum(g, [0, 2, 3]) : null] : []),
  ]);
}

/**
 * dy [N, K, OH, OW] placed at [top + oy*s, left + ox*s] of zeros [N, K, outH, outW]; samples falling outside
 * (only when padding > kernel - 1: they belong to outputs read from padding alone) are dropped.
 */
function dilateAndPad(dy: Tensor, stride: Pair, top: number, left: number, outH: number, outW: number): Tensor {
  const [N, K, OH, OW] = dy.shape;
  const out = new Tensor([N, K, outH, outW]);
  for (let nk = 0; nk < N * K; nk++) {
    for (let oy = 0; oy < OH; oy++) {
      const y = top + oy * stride[0];
      if (y < 0 || y >= outH) continue;
      for (let ox = 0; ox < OW; ox++) {
        const x = left + ox * stride[1];
        if (x < 0 || x >= outW) continue;
        out.data[(nk * outH + y) * outW + x] = dy.data[(nk * OH + oy) * OW + ox];
      }
    }
  }
  return out;
}

/** wt[g*Cg + c, k, kh-1-i, kw-1-j] = w[g*Kg + k, c, i, j]: [K, Cg, kh, kw] -> [C, Kg, kh, kw]. */
function flipTranspose(w: Tensor, groups: number): Tensor {
  const [K, Cg, kh, kw] = w.shape;
  const Kg = K / groups;
  const out = new Tensor([Cg * groups, Kg, kh, kw]);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < Kg; k++) {
      for (let c = 0; c < Cg; c++) {
        const src = ((g * Kg + k) * Cg + c) * kh * kw;
        const dst = ((g * Cg + c) * Kg + k) * kh * kw;
        for (let t = 0; t < kh * kw; t++) out.data[dst + kh * kw - 1 - t] = w.data[src + t];
      }
    }
  }
  return out;
}

/** dx [N, C, H, W] of a conv: the transposed convolution of dy. */
function conv2dGradInput(dy: Tensor, w: Tensor, xShape: readonly number[], stride: Pair, padding: Pair, groups: number): Tensor {
  const [, , H, W] = xShape;
  const [, , kh, kw] = w.shape;
  // dx[h] = sum_i z[h + p - i] w[i] with z the zero-inserted dy: a correlation of z, padded by kh-1-p in front
  // and up to length H + kh - 1, with the flipped kernel.
  const wt = flipTranspose(w, groups);
  if (stride[0] === 1 && stride[1] === 1 && padding[0] <= kh - 1 && padding[1] <= kw - 1) {
    // No zeros to insert and symmetric padding: the conv op pads (OH + 2(kh-1-p) - kh + 1 = H).
    return C.conv2d(dy, wt, null, { groups, padding: [kh - 1 - padding[0], kw - 1 - padding[1]] });
  }
  const z = dilateAndPad(dy, stride, kh - 1 - padding[0], kw - 1 - padding[1], H + kh - 1, W + kw - 1);
  return C.conv2d(z, wt, null, { groups });
}

/** dw [K, Cg, kh, kw] of a conv, one correlation per group. */
function conv2dGradWeight(dy: Tensor, x: Tensor, wShape: readonly number[], stride: Pair, padding: Pair, groups: number): Tensor {
  const [K, Cg, kh, kw] = wShape;
  const Kg = K / groups;
  const parts: Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    const xg = groups === 1 ? x : slice(x, [null, { start: g * Cg, end: (g + 1) * Cg }]);
    const dyg = groups === 1 ? dy : slice(dy, [null, { start: g * Kg, end: (g + 1) * Kg }]);
    // [Cg, N, H, W] conv [Kg, N, OH, OW] (dilation s) -> [Cg, Kg, >= kh, >= kw]
    const r = C.conv2d(permute(xg, [1, 0, 2, 3]), permute(dyg, [1, 0, 2, 3]), null, { padding, dilation: stride });
    const cropped = r.shape[2] === kh && r.shape[3] === kw ? r : slice(r, [null, null, { end: kh }, { end: kw }]);
    parts.push(permute(cropped, [1, 0, 2, 3]));
  }
  return parts.length === 1 ? parts[0] : concat(parts, 0);
}
