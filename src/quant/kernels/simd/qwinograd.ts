// 3x3 stride-1 integer convolution by Winograd F(2x2, 3x3) on the SIMD int8 GEMM's micro-kernel: qconv2dNaive's
// contract, bit for bit (integer transforms, exact; see qwinograd_kernel.ts), with 16 multiplies per 2x2 output tile
// and channel pair instead of 36. Per chunk of nb images (T = nb * TH * TW tiles, TH = OH/2, TW = OW/2):
//   padded planes (zero-point borders) -> wgInput -> B_xi [C, T] packed int16, xi = 0..15
//   M_xi [K, T] = U_xi [K, C] x B_xi   (16 block() calls; U_xi = (G' g G'^T)_xi packed once per weight array)
//   wgOutput: Y [nb, K, OH, OW] = (A^T M A) / 4 + bias  -> sink, as qconv2dSimdStream's
// Applies to 3x3 kernels with stride 1, padding 1, one group, even C, K % 4 == 0, OW % 8 == 0, OH even, weights
// with zero point 0 and an input zero point in the byte range (winogradApplies); otherwise callers use the direct conv.
import { ShapeError, shapeStr } from "../../../tensor/shape.js";
import { maxAbsAccumulator } from "../../accumulator.js";
import { INT32_MAX } from "../../fixedpoint.js";
import type { QCodes } from "../../qtensor.js";
import { type QConv2dParams, qconv2dDims } from "../cpu/qconv2d.js";
import { storageOperand } from "../cpu/qgemm.js";
import { type QConvSink, type QConvSource, qconv2dSimd, qconv2dSimdInto, sinkInto, sourceChunkAt } from "./qconv2d.js";
import { EPILOGUE_SLACK } from "./qepilogue_kernel.js";
import { SLACK, alignUp } from "./qgemm.js";
import { INIT_ZERO, MR, NR } from "./qgemm_kernel.js";
import { WG_INPUT_DESC_INTS, WG_OUTPUT_DESC_INTS } from "./qwinograd_kernel.js";
import { Arena, ensureBytes, getQRuntime } from "./runtime.js";

const TILES_TARGET = 256;
const XI_PAD = 3 * 64; // tiles per chunk: 16 M_xi of K x 256 int32 stay within L2 for K <= 16, near it for 64

/** Whether the Winograd conv computes this conv exactly (and is worth it); see the file header. */
export function winogradApplies(wt: QCodes, bias: Int32Array | null, p: QConv2dParams, signed: boolean): boolean {
  const [n, c, h, w] = p.inputShape;
  const [k, cg, kh, kw] = p.weightShape;
  if (kh !== 3 || kw !== 3 || p.groups !== 1 || cg !== c) return false;
  if (p.stride[0] !== 1 || p.stride[1] !== 1 || p.padding[0] !== 1 || p.padding[1] !== 1 || p.dilation[0] !== 1 || p.dilation[1] !== 1) return false;
  if (c % 2 !== 0 || k % MR !== 0 || h % 2 !== 0 || w % 8 !== 0 || n < 1) return false;
  if (!(wt instanceof Int8Array) || !p.wZeroPoint.every((z) => z === 0)) return false;
  const zX = p.xZeroPoint + (signed ? 128 : 0);
  if (zX < 0 || zX > 255) return false;
  // 4 Y must fit int32 (|V| <= 4 * 255 and |U| <= 9 * 128 fit int16 for any byte codes), and Y + bias as the
  // direct conv asserts
  const acc = maxAbsAccumulator(c * 9, storageOperand(signed, p.xZeroPoint), storageOperand(true, p.wZeroPoint));
  return 4 * acc <= INT32_MAX && acc + maxBias(bias) <= INT32_MAX;
}

function maxBias(bias: Int32Array | null): number {
  let m = 0;
  if (bias) for (let i = 0; i < bias.length; i++) m = Math.max(m, Math.abs(bias[i]));
  return m;
}

const packedWeights = new WeakMap<QCodes, Int16Array>();

/**
 * U_xi = G' g G'^T for every (k, c), packed per xi as the micro-kernel's A operand (MR-row panels, channel pairs):
 * int16 at xi*K*C + (k/MR)*(C/2)*MR*2 + (c/2)*MR*2 + (k%MR)*2 + c%2.
 */
function winogradWeights(wt: Int8Array, k: number, c: number): Int16Array {
  let out = packedWeights.get(wt);
  if (out && out.length === 16 * k * c) return out;
  out = new Int16Array(16 * k * c);
  const G = [
    [2, 0, 0],
    [1, 1, 1],
    [1, -1, 1],
    [0, 0, 2],
  ];
  const gg = new Int32Array(12); // G' g, [4, 3]
  for (let ko = 0; ko < k; ko++) {
    for (let ci = 0; ci < c; ci++) {
      const g = (ko * c + ci) * 9;
      for (let a = 0; a < 4; a++) for (let j = 0; j < 3; j++) gg[a * 3 + j] = G[a][0] * wt[g + j] + G[a][1] * wt[g + 3 + j] + G[a][2] * wt[g + 6 + j];
      const at = (ko >> 2) * (c >> 1) * MR * 2 + (ci >> 1) * MR * 2 + (ko & 3) * 2 + (ci & 1);
      for (let a = 0; a < 4; a++) {
        for (let b = 0; b < 4; b++) out[(a * 4 + b) * k * c + at] = gg[a * 3] * G[b][0] + gg[a * 3 + 1] * G[b][1] + gg[a * 3 + 2] * G[b][2];
      }
    }
  }
  packedWeights.set(wt, out);
  return out;
}

/**
 * The Winograd conv, streamed like qconv2dSimdStream (accumulators [bn, K, OH*OW] with bias per chunk to `sink`);
 * returns false, having called nothing, where winogradApplies is false.
 */
export function qconv3x3WinogradStream(src: QConvSource, wt: QCodes, bias: Int32Array | null, p: QConv2dParams, arena: Arena, sink: QConvSink): boolean {
  const op = "qconv3x3Winograd";
  const { n, c, h, w, k, oh, ow } = qconv2dDims(op, p);
  const signed = "codes" in src ? src.codes instanceof Int8Array : src.signed;
  if (!winogradApplies(wt, bias, p, signed)) return false;
  if (wt.length !== k * c * 9) throw new ShapeError(op, `weight must be ${shapeStr(p.weightShape)}, got ${wt.length} codes`);
  if (bias && bias.length !== k) throw new ShapeError(op, `bias must be [K=${k}], got ${bias.length}`);
  const xor = signed ? 0x80 : 0;
  const zX = p.xZeroPoint + xor;
  const TH = oh / 2;
  const TW = ow / 2;
  const tImg = TH * TW;
  const P = oh * ow;
  const wp = w + 2;
  const plane = (h + 2) * wp;
  const img = c * plane;
  const nb = Math.max(1, Math.min(n, Math.floor(TILES_TARGET / tImg)));
  const ldcT = alignUp(nb * tImg, NR); // M_xi row length (int32)
  const kp = c / 2;
  const bStride = kp * NR * 4;
  // NOTE: the 16 B_xi and M_xi are read or written side by side; power-of-two distances between them would map them to
  // the same cache sets, so each is padded by three cache lines
  const bBytes = (ldcT / NR) * bStride + XI_PAD;
  const aBytes = k * c * 2;
  const mBytes = k * ldcT * 4 + XI_PAD;

  const rt = getQRuntime();
  const aAt = arena.take(16 * aBytes);
  const bAt = arena.take(16 * bBytes);
  const mAt = arena.take(16 * mBytes);
  const yAt = arena.take(4 * nb * k * P + EPILOGUE_SLACK);
  const biasAt = arena.take(4 * k);
  const inDesc = arena.take(4 * WG_INPUT_DESC_INTS);
  const outDesc = arena.take(4 * WG_OUTPUT_DESC_INTS);
  const xInAt = "codes" in src ? arena.take(nb * c * h * w) : -1;
  const xpAt = arena.take(nb * img + SLACK);
  ensureBytes(rt, arena.end);
  const { u8, i32, i16 } = rt;
  i16.set(winogradWeights(wt as Int8Array, k, c), aAt >> 1);
  if (bias) i32.set(bias, biasAt >> 2);
  else i32.fill(0, biasAt >> 2, (biasAt >> 2) + k);
  const ind = inDesc >> 2;
  i32.set([xpAt, plane, wp, img, 0, c, TH, TW, zX, bAt, bBytes, bStride], ind);
  const outd = outDesc >> 2;
  i32.set([mAt, mBytes, ldcT * 4, 0, k, TH, TW, yAt, biasAt], outd);

  for (let n0 = 0; n0 < n; n0 += nb) {
    const bn = Math.min(nb, n - n0);
    const xAt = sourceChunkAt(src, u8, xInAt, n0, bn, c * h * w);
    u8.fill(zX, xpAt, xpAt + bn * img);
    rt.k.padCopy(xAt, xpAt + wp + 1, bn * c, h, w, wp, plane, xor);
    i32[ind + 4] = bn;
    rt.k.wgInput(inDesc);
    const panels = Math.ceil((bn * tImg) / NR);
    for (let xi = 0; xi < 16; xi++) rt.k.block(aAt + xi * aBytes, bAt + xi * bBytes, bStride, mAt + xi * mBytes, ldcT * 4, k / MR, panels, kp, INIT_ZERO, 0);
    i32[outd + 3] = bn;
    rt.k.wgOutput(outDesc);
    sink(n0, bn, yAt);
  }
  return true;
}

/**
 * qconv2dNaive's contract, bit for bit: by Winograd where winogradApplies, else by the direct SIMD conv.
 * @example qconv2dWinograd(x, w, null, {inputShape: [8, 16, 32, 32], weightShape: [16, 16, 3, 3], stride: [1, 1],
 *   padding: [1, 1], dilation: [1, 1], groups: 1, xZeroPoint: 0, wZeroPoint: new Int32Array(16)})
 */
export function qconv2dWinograd(x: QCodes, wt: QCodes, bias: Int32Array | null, p: QConv2dParams): Int32Array {
  const { n, c, h, w, k, oh, ow } = qconv2dDims("qconv2dWinograd", p);
  if (x.length !== n * c * h * w || !winogradApplies(wt, bias, p, x instanceof Int8Array)) return qconv2dSimd(x, wt, bias, p);
  const P = oh * ow;
  const y = new Int32Array(n * k * P);
  if (!qconv3x3WinogradStream({ codes: x }, wt, bias, p, new Arena(), sinkInto(y, k * P))) qconv2dSimdInto(x, wt, bias, p, y);
  return y;
}
