// 2-D convolution (cross-correlation, as PyTorch), NCHW.
// N=batch C=in channels H,W=in spatial K=out channels kh,kw=kernel OH,OW=out spatial G=groups
//   x: [N, C, H, W]   w: [K, C/G, kh, kw]   bias: [K]   out: [N, K, OH, OW]
//   out[n,k,oy,ox] = bias[k] + sum_{c,i,j} x[n, g*C/G + c, oy*sh - ph + i*dh, ox*sw - pw + j*dw] * w[k,c,i,j]
// conv2dNaive is the reference; conv2d lowers each (image, group) to a GEMM over an im2col matrix
// (1x1 stride-1 convs use the input directly) and runs depthwise convs as direct loops.
import type { KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";
import { type Gemm, gemmPacked } from "./gemm.js";

type Inputs = KernelSpecs["conv2d"]["inputs"];
type Attrs = KernelSpecs["conv2d"]["attrs"];

export function conv2dNaive({ x, w, bias }: Inputs, attrs: Attrs): Tensor {
  const [N, C, H, W] = x.shape;
  const [K, Cg, kh, kw] = w.shape;
  const { stride, padding, dilation, groups: G, outShape } = attrs;
  const [, , OH, OW] = outShape;
  const Kg = K / G;
  const out = new Tensor(outShape);
  const o = out.data;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const g = Math.floor(k / Kg);
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let acc = bias ? bias.data[k] : 0;
          for (let c = 0; c < Cg; c++) {
            const ci = g * Cg + c;
            for (let i = 0; i < kh; i++) {
              const iy = oy * stride[0] - padding[0] + i * dilation[0];
              if (iy < 0 || iy >= H) continue;
              for (let j = 0; j < kw; j++) {
                const ix = ox * stride[1] - padding[1] + j * dilation[1];
                if (ix < 0 || ix >= W) continue;
                acc += x.data[((n * C + ci) * H + iy) * W + ix] * w.data[((k * Cg + c) * kh + i) * kw + j];
              }
            }
          }
          o[((n * K + k) * OH + oy) * OW + ox] = acc;
        }
      }
    }
  }
  return out;
}

/** col[(c*kh + i)*kw + j, oy*OW + ox] = x[c0 + c, iy, ix] (0 outside): [Cg*kh*kw, OH*OW]. */
export function im2col(
  src: Float32Array,
  srcOff: number,
  Cg: number,
  H: number,
  W: number,
  kh: number,
  kw: number,
  attrs: Attrs,
  OH: number,
  OW: number,
  col: Float32Array,
): void {
  const { stride, padding, dilation } = attrs;
  const P = OH * OW;
  let row = 0;
  for (let c = 0; c < Cg; c++) {
    const plane = srcOff + c * H * W;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, row++) {
        const dst = row * P;
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * stride[0] - padding[0] + i * dilation[0];
          const d = dst + oy * OW;
          if (iy < 0 || iy >= H) {
            col.fill(0, d, d + OW);
            continue;
          }
          const rowBase = plane + iy * W;
          let ix = -padding[1] + j * dilation[1];
          for (let ox = 0; ox < OW; ox++, ix += stride[1]) col[d + ox] = ix >= 0 && ix < W ? src[rowBase + ix] : 0;
        }
      }
    }
  }
}

let colScratch = new Float32Array(0);

function depthwise({ x, w, bias }: Inputs, attrs: Attrs): Tensor {
  const [N, C, H, W] = x.shape;
  const [, , kh, kw] = w.shape;
  const { stride, padding, dilation, outShape } = attrs;
  const [, K, OH, OW] = outShape;
  const mult = K / C;
  const out = new Tensor(outShape);
  const o = out.data;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const src = (n * C + Math.floor(k / mult)) * H * W;
      const b = bias ? bias.data[k] : 0;
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let acc = b;
          for (let i = 0; i < kh; i++) {
            const iy = oy * stride[0] - padding[0] + i * dilation[0];
            if (iy < 0 || iy >= H) continue;
            for (let j = 0; j < kw; j++) {
              const ix = ox * stride[1] - padding[1] + j * dilation[1];
              if (ix < 0 || ix >= W) continue;
              acc += x.data[src + iy * W + ix] * w.data[(k * kh + i) * kw + j];
            }
          }
          o[((n * K + k) * OH + oy) * OW + ox] = acc;
        }
      }
    }
  }
  return out;
}

/** conv2d lowered onto a given GEMM (each backend passes its own). */
export function conv2dWithGemm(gemm: Gemm): (inputs: Inputs, attrs: Attrs) => Tensor {
  return (inputs, attrs) => conv2dGemm(gemm, inputs, attrs);
}

export const conv2d = conv2dWithGemm(gemmPacked);

function conv2dGemm(gemm: Gemm, inputs: Inputs, attrs: Attrs): Tensor {
  const { x, w, bias } = inputs;
  const [N, C, H, W] = x.shape;
  const [K, Cg, kh, kw] = w.shape;
  const { stride, padding, dilation, groups: G, outShape } = attrs;
  if (G === C && Cg === 1 && G > 1) return depthwise(inputs, attrs);
  const [, , OH, OW] = outShape;
  const P = OH * OW;
  const Kg = K / G;
  const Kc = Cg * kh * kw;
  const direct = kh === 1 && kw === 1 && stride[0] === 1 && stride[1] === 1 && padding[0] === 0 && padding[1] === 0;
  if (!direct && colScratch.length < Kc * P) colScratch = new Float32Array(Kc * P);
  const out = new Tensor(outShape);
  const o = out.data;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const srcOff = (n * C + g * Cg) * H * W;
      let colData: Float32Array;
      let colOff: number;
      if (direct) {
        colData = x.data;
        colOff = srcOff;
      } else {
        im2col(x.data, srcOff, Cg, H, W, kh, kw, attrs, OH, OW, colScratch);
        colData = colScratch;
        colOff = 0;
      }
      // out[n, g*Kg:(g+1)*Kg, :] = w_g [Kg, Kc] x col [Kc, P]
      const outOff = (n * K + g * Kg) * P;
      gemm(
        Kg,
        P,
        Kc,
        { data: w.data, offset: g * Kg * Kc, rowStride: Kc, colStride: 1 },
        { data: colData, offset: colOff, rowStride: P, colStride: 1 },
        o,
        outOff,
        P,
      );
      if (bias) {
        for (let k = 0; k < Kg; k++) {
          const bv = bias.data[g * Kg + k];
          const base = outOff + k * P;
          for (let p = 0; p < P; p++) o[base + p] += bv;
        }
      }
    }
  }
  return out;
}
