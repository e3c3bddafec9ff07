// 2-D convolution (NCHW, as PyTorch) lowered onto the SIMD GEMM, tested against conv2dNaive.
// N=batch C=in channels H,W=in spatial K=out channels kh,kw=kernel OH,OW=out spatial G=groups P=OH*OW
//   x: [N, C, H, W]   w: [K, C/G, kh, kw]   bias: [K]   out: [N, K, OH, OW]
// Per group g and batch of nb images: out[n, g*Kg:(g+1)*Kg, :] = w_g [Kg, Kc] x col [Kc, nb*P], Kc = C/G*kh*kw,
// where col is the im2col matrix of nb images side by side, built directly in wasm memory (so the GEMM
// packs it with SIMD instead of copying it again). Small feature maps are batched (nb*P >= COLS_TARGET)
// so each GEMM has enough columns; the GEMM scatters its column groups to the images' outputs.
// Depthwise convs (one input channel per group) run as the direct loops of the cpu kernel.
import type { KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";
import { conv2dWithGemm } from "../cpu/conv.js";
import { gemmSimd, gemmSimdGrouped, reserveScratch } from "./gemm.js";

type Inputs = KernelSpecs["conv2d"]["inputs"];
type Attrs = KernelSpecs["conv2d"]["attrs"];

const COLS_TARGET = 1024; // GEMM columns per call when batching images with small feature maps

const perImage = conv2dWithGemm(gemmSimd);

/**
 * col[r, colOff + oy*OW + ox] (row stride ldd) = x[c, iy, ix] or 0 outside, r = (c*kh + i)*kw + j,
 * iy = oy*sh - ph + i*dh, ix = ox*sw - pw + j*dw; x channel c starts at src[srcOff + c*H*W].
 */
export function im2colInto(
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
  colOff: number,
  ldd: number,
): void {
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const [dh, dw] = attrs.dilation;
  let r = 0;
  for (let c = 0; c < Cg; c++) {
    const plane = srcOff + c * H * W;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, r++) {
        const row = colOff + r * ldd;
        // output columns whose input column is inside [0, W): ox in [lo, hi)
        const x0 = j * dw - pw;
        const lo = Math.min(OW, Math.max(0, Math.ceil(-x0 / sw)));
        const hi = Math.max(lo, Math.min(OW, Math.floor((W - 1 - x0) / sw) + 1));
        for (let oy = 0; oy < OH; oy++) {
          const d = row + oy * OW;
          const iy = oy * sh - ph + i * dh;
          if (iy < 0 || iy >= H) {
            col.fill(0, d, d + OW);
            continue;
          }
          const s = plane + iy * W + x0;
          for (let ox = 0; ox < lo; ox++) col[d + ox] = 0;
          if (sw === 1) {
            for (let ox = lo; ox < hi; ox++) col[d + ox] = src[s + ox];
          } else {
            for (let ox = lo; ox < hi; ox++) col[d + ox] = src[s + ox * sw];
          }
          for (let ox = hi; ox < OW; ox++) col[d + ox] = 0;
        }
      }
    }
  }
}

export function conv2dSimd(inputs: Inputs, attrs: Attrs): Tensor {
  const { x, w, bias } = inputs;
  const [N, C, H, W] = x.shape;
  const [K, Cg, kh, kw] = w.shape;
  const { groups: G, outShape } = attrs;
  if (G === C && Cg === 1 && G > 1) return perImage(inputs, attrs);
  const [, , OH, OW] = outShape;
  const P = OH * OW;
  const Kg = K / G;
  const Kc = Cg * kh * kw;
  const out = new Tensor(outShape);
  const o = out.data;
  if (P === 0 || K === 0 || N === 0) return out;
  const nb = Math.max(1, Math.min(N, Math.floor(COLS_TARGET / P)));
  for (let n0 = 0; n0 < N; n0 += nb) {
    const bn = Math.min(nb, N - n0);
    const cols = bn * P;
    for (let g = 0; g < G; g++) {
      // col [Kc, cols] in wasm memory, then room for the GEMM's copy of w_g [Kg, Kc]
      const { heap, offset } = reserveScratch(Kg, cols, Kc, Kc * cols + Kg * Kc + 64);
      for (let b = 0; b < bn; b++) {
        im2colInto(x.data, ((n0 + b) * C + g * Cg) * H * W, Cg, H, W, kh, kw, attrs, OH, OW, heap, offset + b * P, cols);
      }
      const outOff = (n0 * K + g * Kg) * P;
      if (bias) {
        for (let b = 0; b < bn; b++) {
          for (let k = 0; k < Kg; k++) {
            const base = outOff + b * K * P + k * P;
            o.fill(bias.data[g * Kg + k], base, base + P);
          }
        }
      }
      gemmSimdGrouped(
        Kg,
        cols,
        Kc,
        { data: w.data, offset: g * Kg * Kc, rowStride: Kc, colStride: 1 },
        { data: heap, offset, rowStride: cols, colStride: 1 },
        o,
        outOff,
        P,
        bias !== null,
        { width: P, stride: K * P },
      );
    }
  }
  return out;
}
