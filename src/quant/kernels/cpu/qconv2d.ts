// Integer 2-D convolution, NCHW, int8/uint8 codes -> int32 accumulators (TFLite reference_integer_ops::ConvPerChannel):
//   Y[n, co, oy, ox] = bias[co] + sum_{ci, ky, kx} (X[n, g*Cg + ci, iy, ix] - zX) * (W[co, ci, ky, kx] - zW[co])
//   iy = oy*strideH - padH + ky*dilationH (likewise ix), g = floor(co / (K/G)).
// N=batch C=in channels H,W=input spatial K=out channels G=groups Cg=C/G KH,KW=kernel OH,OW=output spatial.
// Padding is filled with the INPUT ZERO POINT zX (real 0.0), so a padded tap contributes exactly 0.
import { assertNoInt32Overflow, maxAbsInt32 } from "../../accumulator.js";
import { ShapeError, shapeStr } from "../../../tensor/shape.js";
import type { QCodes } from "../../qtensor.js";
import { packQGemmB, qgemmPacked, storageOperand } from "./qgemm.js";

export interface QConv2dParams {
  /** [N, C, H, W] */
  readonly inputShape: readonly [number, number, number, number];
  /** [K, C/G, KH, KW] */
  readonly weightShape: readonly [number, number, number, number];
  readonly stride: readonly [number, number];
  /** Zero padding on both sides of H and W (filled with xZeroPoint). */
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
  readonly xZeroPoint: number;
  /** Length 1 (per tensor) or K (per output channel). */
  readonly wZeroPoint: Int32Array;
}

export interface Conv2dDims {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  cg: number;
  kg: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
}

/**
 * Validates shapes and attributes and returns every dimension, OH/OW included (floor((H + 2p - d(KH-1) - 1)/s) + 1).
 * @example qconv2dDims("qconv2d", {inputShape: [1, 3, 32, 32], weightShape: [16, 3, 3, 3], stride: [1, 1], padding: [1, 1], ...}).oh === 32
 */
export function qconv2dDims(op: string, p: QConv2dParams): Conv2dDims {
  const [n, c, h, w] = p.inputShape;
  const [k, cg, kh, kw] = p.weightShape;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const ints = [n, c, h, w, k, cg, kh, kw, ph, pw];
  if (!ints.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new ShapeError(op, `bad shapes input ${shapeStr(p.inputShape)} weight ${shapeStr(p.weightShape)} padding ${shapeStr(p.padding)}`);
  }
  if (![sh, sw, dh, dw, kh, kw, p.groups].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ShapeError(op, `stride ${shapeStr(p.stride)}, dilation ${shapeStr(p.dilation)} and groups ${p.groups} and kernel ${kh}x${kw} must be integers >= 1`);
  }
  const g = p.groups;
  if (c % g !== 0 || k % g !== 0 || cg !== c / g) {
    throw new ShapeError(op, `groups=${g} needs C=${c} and K=${k} divisible by it and weight C/G=${c / g}, got ${cg}`);
  }
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (oh <= 0 || ow <= 0) throw new ShapeError(op, `kernel ${kh}x${kw} does not fit input ${h}x${w} with padding ${ph},${pw}`);
  if (p.wZeroPoint.length !== 1 && p.wZeroPoint.length !== k) {
    throw new ShapeError(op, `wZeroPoint must have length 1 or K=${k}, got ${p.wZeroPoint.length}`);
  }
  return { n, c, h, w, k, cg, kg: k / g, kh, kw, oh, ow };
}

function validate(op: string, x: QCodes, wt: QCodes, bias: Int32Array | null, p: QConv2dParams): Conv2dDims {
  const d = qconv2dDims(op, p);
  if (x.length !== d.n * d.c * d.h * d.w) throw new ShapeError(op, `input must be ${shapeStr(p.inputShape)}, got ${x.length} codes`);
  if (wt.length !== d.k * d.cg * d.kh * d.kw) throw new ShapeError(op, `weight must be ${shapeStr(p.weightShape)}, got ${wt.length} codes`);
  if (bias && bias.length !== d.k) throw new ShapeError(op, `bias must be [K=${d.k}], got ${bias.length}`);
  const xOperand = storageOperand(x instanceof Int8Array, p.xZeroPoint);
  const wOperand = storageOperand(wt instanceof Int8Array, p.wZeroPoint);
  assertNoInt32Overflow(op, d.cg * d.kh * d.kw, xOperand, wOperand, maxAbsInt32(bias));
  return d;
}

/**
 * Reference loops over every output and tap; padded taps read zX. Returns Y [N, K, OH, OW] int32.
 * @example qconv2dNaive(x, w, bias, {inputShape: [1, 3, 8, 8], weightShape: [4, 3, 3, 3], stride: [1, 1],
 *   padding: [1, 1], dilation: [1, 1], groups: 1, xZeroPoint: 5, wZeroPoint: new Int32Array(4)})
 */
export function qconv2dNaive(
  x: QCodes, // [N, C, H, W]
  wt: QCodes, // [K, C/G, KH, KW]
  bias: Int32Array | null, // [K]
  p: QConv2dParams,
): Int32Array {
  const { n, c, h, w, k, cg, kg, kh, kw, oh, ow } = validate("qconv2dNaive", x, wt, bias, p);
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const zX = p.xZeroPoint;
  const y = new Int32Array(n * k * oh * ow); // [N, K, OH, OW]
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < k; co++) {
      const g = Math.floor(co / kg);
      const zW = p.wZeroPoint.length === 1 ? p.wZeroPoint[0] : p.wZeroPoint[co];
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let acc = bias ? bias[co] : 0;
          for (let ci = 0; ci < cg; ci++) {
            const xc = g * cg + ci;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - ph + ky * dh;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pw + kx * dw;
                const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                const xv = inside ? x[((b * c + xc) * h + iy) * w + ix] : zX; // pad value = input zero point
                const wv = wt[((co * cg + ci) * kh + ky) * kw + kx];
                acc = (acc + (xv - zX) * (wv - zW)) | 0;
              }
            }
          }
          y[((b * k + co) * oh + oy) * ow + ox] = acc;
        }
      }
    }
  }
  return y;
}

/**
 * im2col for one image and group: patches [OH*OW, Cg*KH*KW] as Int16, padded with zX; rows ordered (ci, ky, kx)
 * like the weight rows, so Y^T = patches x W_g^T is a qgemm with transposeB.
 */
function im2colRows(x: QCodes, d: Conv2dDims, p: QConv2dParams, b: number, g: number, out: Int16Array): void {
  const { c, h, w, cg, kh, kw, oh, ow } = d;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const kLen = cg * kh * kw;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let o = (oy * ow + ox) * kLen;
      for (let ci = 0; ci < cg; ci++) {
        const plane = (b * c + g * cg + ci) * h;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky * dh;
          const rowInside = iy >= 0 && iy < h;
          for (let kx = 0; kx < kw; kx++, o++) {
            const ix = ox * sw - pw + kx * dw;
            out[o] = rowInside && ix >= 0 && ix < w ? x[(plane + iy) * w + ix] : p.xZeroPoint;
          }
        }
      }
    }
  }
}

/**
 * qconv2dNaive's contract via im2col (padding = zX) and the packed GEMM per group; bit-exact with the naive loops.
 * @example qconv2dFast(x, w, bias, params) // equals qconv2dNaive(x, w, bias, params)
 */
export function qconv2dFast(x: QCodes, wt: QCodes, bias: Int32Array | null, p: QConv2dParams): Int32Array {
  const d = validate("qconv2dFast", x, wt, bias, p);
  const { n, k, cg, kg, kh, kw, oh, ow } = d;
  const kLen = cg * kh * kw;
  const pixels = oh * ow;
  const y = new Int32Array(n * k * pixels); // [N, K, OH, OW]
  const patches = new Int16Array(pixels * kLen); // [OH*OW, Cg*KH*KW]
  for (let g = 0; g < p.groups; g++) {
    const wG = wt.subarray(g * kg * kLen, (g + 1) * kg * kLen); // [K/G, Cg*KH*KW]
    const zW = p.wZeroPoint.length === 1 ? p.wZeroPoint : p.wZeroPoint.subarray(g * kg, (g + 1) * kg);
    const biasG = bias ? bias.subarray(g * kg, (g + 1) * kg) : null;
    const gemm = { m: pixels, n: kg, k: kLen, transposeB: true, aZeroPoint: p.xZeroPoint, bZeroPoint: zW };
    const packed = packQGemmB(wG, biasG, gemm, x instanceof Int8Array);
    for (let b = 0; b < n; b++) {
      im2colRows(x, d, p, b, g, patches);
      const yT = qgemmPacked(patches, packed, pixels); // [OH*OW, K/G]
      for (let co = 0; co < kg; co++) {
        const base = (b * k + g * kg + co) * pixels;
        for (let px = 0; px < pixels; px++) y[base + px] = yT[px * kg + co];
      }
    }
  }
  return y;
}
