// Integer 2-D convolution, NCHW, on the SIMD int8 GEMM (qgemm.ts); qconv2dNaive's contract, tested bit for bit:
//   Y[n, co, oy, ox] = bias[co] + sum_{ci, ky, kx} (X[n, g*Cg + ci, iy, ix] - zX) * (W[co, ci, ky, kx] - zW[co])
// N=batch C=in channels H,W=in spatial K=out channels G=groups Cg=C/G Kg=K/G KH,KW=kernel OH,OW=out spatial
// P=OH*OW Kc=Cg*KH*KW. Per group g and chunk of nb images: Y[n, g*Kg:(g+1)*Kg, :] = (W_g - zW) x (col - zX), a GEMM
// with A = W_g [Kg, Kc] (per-row zero points), B = col [Kc, nb*P] (images side by side, nb*P >= COLS_TARGET),
// output rows in NCHW order already. col is never materialized as codes: the input is copied once into planes
// padded with zX (the pad value of the reference), and the emitted packers (qgemm_kernel.ts) read the taps of NR
// output pixels from there straight into the GEMM's packed, centered int16 B layout, for all of Kc at once.
// Signed inputs are stored biased by 128 (x ^ 0x80 = x + 128, zX + 128 likewise), so one unsigned packer serves both.
// Where tiles fit each image exactly (P % NR == 0 and Kg % MR == 0, as in ResNets) the GEMM accumulates straight
// into the output chunk [nb, K, P] in wasm memory; otherwise into a padded C [Kg, nb*P] per group, copied into the
// chunk by rows. Either way the first k block starts its accumulators from the bias (block()'s INIT_ROWS).
// qconv2dSimd / qconv2dSimdInto copy each chunk out with one set(); qconv2dSimdStream hands it to a sink instead (the
// fused ResNet pipeline requantizes it in place), reading resident input codes if given.
import { ShapeError, shapeStr } from "../../../tensor/shape.js";
import type { QCodes } from "../../qtensor.js";
import { type QConv2dParams, qconv2dDims, qconv2dFast } from "../cpu/qconv2d.js";
import { SLACK, alignUp, bytesOf, checkBounds, reserveWorkspace, runBlocked, signIndex } from "./qgemm.js";
import { MR, NR } from "./qgemm_kernel.js";
import { EPILOGUE_SLACK } from "./qepilogue_kernel.js";
import { Arena, ensureBytes, getQRuntime } from "./runtime.js";

const COLS_TARGET = 1024; // GEMM columns per call when batching images with small feature maps

/**
 * qconv2dNaive's contract via zero-point-padded planes, fused im2col + packing and the SIMD int8 GEMM; bit-exact.
 * @example qconv2dSimd(x, w, bias, {inputShape: [64, 16, 32, 32], weightShape: [16, 16, 3, 3], stride: [1, 1],
 *   padding: [1, 1], dilation: [1, 1], groups: 1, xZeroPoint: 0, wZeroPoint: new Int32Array(16)})
 */
export function qconv2dSimd(
  x: QCodes, // [N, C, H, W]
  wt: QCodes, // [K, C/G, KH, KW]
  bias: Int32Array | null, // [K]
  p: QConv2dParams,
): Int32Array {
  const { n, k, oh, ow } = qconv2dDims("qconv2dSimd", p);
  const y = new Int32Array(n * k * oh * ow); // [N, K, OH, OW]
  qconv2dSimdInto(x, wt, bias, p, y);
  return y;
}

/**
 * qconv2dSimd writing into the caller's y [N, K, OH, OW] (every value overwritten), so a loop of calls reuses one
 * output buffer instead of allocating (and first-touching) a fresh one per call.
 */
export function qconv2dSimdInto(x: QCodes, wt: QCodes, bias: Int32Array | null, p: QConv2dParams, y: Int32Array): void {
  const op = "qconv2dSimd";
  const { n, c, h, w, k, oh, ow } = qconv2dDims(op, p);
  if (x.length !== n * c * h * w) throw new ShapeError(op, `input must be ${shapeStr(p.inputShape)}, got ${x.length} codes`);
  const P = oh * ow;
  if (y.length !== n * k * P) throw new ShapeError(op, `output must be [N, K, OH, OW] = ${shapeStr([n, k, oh, ow])} (${n * k * P} values), got ${y.length}`);
  if (!qconv2dSimdStream({ codes: x }, wt, bias, p, new Arena(), sinkInto(y, k * P))) y.set(qconv2dFast(x, wt, bias, p));
}

/** A sink that copies each chunk's accumulators into y [N, ...] at image n0 (imageInts int32 per image). */
export function sinkInto(y: Int32Array, imageInts: number): QConvSink {
  return (n0, bn, accAt) => y.set(getQRuntime().i32.subarray(accAt >> 2, (accAt >> 2) + bn * imageInts), n0 * imageInts);
}

/** The conv's input: codes in a JS array (copied in chunk by chunk), or [N, C, H, W] codes already in the runtime's memory. */
export type QConvSource = { readonly codes: QCodes } | { readonly at: number; readonly signed: boolean };

/**
 * Byte address of the codes of images n0 .. n0 + bn: host codes are copied to xInAt, codes already resident in
 * wasm memory are read in place. imageBytes = C * H * W.
 */
export function sourceChunkAt(src: QConvSource, u8: Uint8Array, xInAt: number, n0: number, bn: number, imageBytes: number): number {
  if (!("codes" in src)) return src.at + n0 * imageBytes;
  u8.set(bytesOf(src.codes).subarray(n0 * imageBytes, (n0 + bn) * imageBytes), xInAt);
  return xInAt;
}

/** Receives the int32 accumulators [bn, K, OH*OW] (bias included) of images n0 .. n0 + bn at byte address accAt. */
export type QConvSink = (n0: number, bn: number, accAt: number) => void;

/**
 * The SIMD conv, streamed: for each chunk of images the accumulators go to `sink` in wasm memory (valid until it
 * returns; EPILOGUE_SLACK readable bytes follow them) instead of an output array. The workspace is taken from
 * `arena` (regions below arena.end are left alone). Returns false, having called nothing, where the SIMD path does
 * not apply (centered codes beyond int16, or a zero point outside the byte range with padding): the caller then
 * runs qconv2dFast.
 */
export function qconv2dSimdStream(src: QConvSource, wt: QCodes, bias: Int32Array | null, p: QConv2dParams, arena: Arena, sink: QConvSink): boolean {
  const op = "qconv2dSimd";
  const d = qconv2dDims(op, p);
  const { n, c, h, w, k, cg, kg, kh, kw, oh, ow } = d;
  if (wt.length !== k * cg * kh * kw) throw new ShapeError(op, `weight must be ${shapeStr(p.weightShape)}, got ${wt.length} codes`);
  if (bias && bias.length !== k) throw new ShapeError(op, `bias must be [K=${k}], got ${bias.length}`);
  const signed = "codes" in src ? src.codes instanceof Int8Array : src.signed;
  // NOTE: checkBounds reads only the storage type of the input array; an empty one stands for resident codes.
  const xType = "codes" in src ? src.codes : signed ? new Int8Array(0) : new Uint8Array(0);
  const fitsInt16 = checkBounds(op, cg * kh * kw, xType, p.xZeroPoint, wt, p.wZeroPoint, bias);

  const xor = signed ? 0x80 : 0;
  const zX = p.xZeroPoint + xor; // the zero point of the stored (unsigned) planes
  const [ph, pw] = p.padding;
  const padded = ph > 0 || pw > 0;
  // the pad bytes must equal the zero point; out-of-range zero points (never chosen by calibration) take the JS path
  if (!fitsInt16 || (padded && (zX < 0 || zX > 255))) return false;

  const P = oh * ow;
  const Kc = cg * kh * kw;
  if (n * k * P === 0) return true;
  const rt = getQRuntime();
  if (Kc === 0) {
    const at = arena.take(4 * k * P + EPILOGUE_SLACK);
    ensureBytes(rt, arena.end);
    for (let b = 0; b < n; b++) {
      if (bias) for (let co = 0; co < k; co++) rt.i32.fill(bias[co], (at >> 2) + co * P, (at >> 2) + (co + 1) * P);
      else rt.i32.fill(0, at >> 2, (at >> 2) + k * P);
      sink(b, 1, at);
    }
    return true;
  }
  const [sh, sw] = p.stride;
  const [dh, dw] = p.dilation;
  const hp = h + 2 * ph;
  const wp = w + 2 * pw;
  const plane = hp * wp;
  const img = cg * plane; // one image's padded planes of one group
  const nb = Math.max(1, Math.min(n, Math.floor(COLS_TARGET / P)));
  const maxCols = nb * P;
  const maxPanels = Math.ceil(maxCols / NR);
  const kp = Math.ceil(Kc / 2);
  const panelBytes = kp * NR * 4;
  // rows path: NR pixels of a panel lie in one output row, sw bytes apart (one vector load per tap)
  const rowsPath = ow % NR === 0 && (sw === 1 || sw === 2);
  const perChannel = p.wZeroPoint.length !== 1;

  const direct = P % NR === 0 && kg % MR === 0;

  const ws = reserveWorkspace(arena, kg, maxCols, Kc, true);
  // direct: the output chunk [nb, K, P]; else C [Kg, nb*P] of one group, padded to whole tiles, and the chunk
  // [nb, K, P] the sink reads, assembled from it by rows
  const ldcN = direct ? P : alignUp(maxCols, NR);
  const cAt = arena.take(4 * (direct ? nb * k * P : alignUp(kg, MR) * ldcN) + EPILOGUE_SLACK);
  const stageAt = direct ? cAt : arena.take(4 * nb * k * P + EPILOGUE_SLACK);
  const biasAt = arena.take(4 * (k + MR)); // block() reads up to MR - 1 values past a group's last row
  const zpAt = arena.take(4 * p.wZeroPoint.length);
  const wAt = arena.take(k * Kc + SLACK);
  const offAt = arena.take(4 * Kc);
  const tabAt = arena.take(4 * (rowsPath ? maxPanels : maxPanels * NR));
  const colAt = arena.take(maxPanels * panelBytes);
  const xInAt = "codes" in src ? arena.take(nb * c * h * w) : -1;
  const xpAt = arena.take(nb * img + SLACK);
  ensureBytes(rt, arena.end);
  const { u8, i32 } = rt;
  i32.fill(0, biasAt >> 2, (biasAt >> 2) + k + MR);
  if (bias) i32.set(bias, biasAt >> 2);
  i32.set(p.wZeroPoint, zpAt >> 2);
  u8.set(bytesOf(wt), wAt);
  // offTab[(ci*KH + ky)*KW + kx]: the tap's byte offset from its output pixel's window origin in the padded planes
  for (let ci = 0, t = offAt >> 2; ci < cg; ci++) {
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++, t++) i32[t] = ci * plane + ky * dh * wp + kx * dw;
  }
  // window origin of chunk column j (image b = j / P): b*img + oy*sh*wp + ox*sw; rows path: one per panel
  const origin = (j: number): number => {
    const b = Math.floor(j / P);
    const px = j - b * P;
    const oy = Math.floor(px / ow);
    return b * img + oy * sh * wp + (px - oy * ow) * sw;
  };
  if (rowsPath) for (let q = 0; q < maxPanels; q++) i32[(tabAt >> 2) + q] = origin(q * NR);
  else for (let j = 0; j < maxPanels * NR; j++) i32[(tabAt >> 2) + j] = origin(Math.min(j, maxCols - 1));

  const packA = rt.k.packRowsA[signIndex(wt)];
  // which A block ws.a holds, as (first row) * (Kc + 1) + (first k): weights that fit one block are packed once
  let packedA = -1;
  // padCopy writes the planes' interiors only: their zero-point borders, filled once, hold for every chunk and group
  if (padded) u8.fill(zX, xpAt, xpAt + nb * img);
  for (let n0 = 0; n0 < n; n0 += nb) {
    const bn = Math.min(nb, n - n0);
    const cols = bn * P;
    const panels = Math.ceil(cols / NR);
    const xAt = sourceChunkAt(src, u8, xInAt, n0, bn, c * h * w);
    if (!rowsPath && cols < maxCols) {
      // the gather table's padding columns repeat this chunk's last column
      for (let j = cols; j < panels * NR; j++) i32[(tabAt >> 2) + j] = origin(cols - 1);
    }
    for (let g = 0; g < p.groups; g++) {
      const interior = xpAt + ph * wp + pw;
      if (p.groups === 1) rt.k.padCopy(xAt, interior, bn * c, h, w, wp, plane, xor);
      else for (let b = 0; b < bn; b++) rt.k.padCopy(xAt + (b * c + g * cg) * h * w, interior + b * img, cg, h, w, wp, plane, xor);
      if (rowsPath) (sw === 1 ? rt.k.convRows1 : rt.k.convRows2)(xpAt, offAt, Kc, colAt, panelBytes, panels, tabAt, zX);
      else rt.k.convGather(xpAt, offAt, Kc, colAt, panelBytes, panels, tabAt, zX);
      const co0 = g * kg;
      runBlocked(rt, ws, {
        m: kg,
        n: cols,
        k: Kc,
        segment: direct ? P : cols,
        ldc: ldcN * 4,
        packA: (i0, mc, pc, kc, dst) => {
          const row = co0 + i0;
          if (row * (Kc + 1) + pc === packedA) return;
          packedA = row * (Kc + 1) + pc;
          packA(wAt + row * Kc + pc, Kc, mc, dst, kc, Math.ceil(mc / MR), zpAt + (perChannel ? 4 * row : 0), perChannel ? 4 : 0);
        },
        // pc is a multiple of the (even) KC and jc of NR: whole panels and whole k-pairs
        packB: (jc, _nc, pc) => ({ at: colAt + (jc / NR) * panelBytes + (pc / 2) * NR * 4, stride: panelBytes }),
        rowInit: (i0) => biasAt + 4 * (co0 + i0), // the first k block starts from the bias (no pass over C)
        cTile: direct
          ? (i, j) => {
              const b = Math.floor(j / P);
              return cAt + ((b * k + co0 + i) * P + (j - b * P)) * 4;
            }
          : (i, j) => cAt + (i * ldcN + j) * 4,
      });
      // C [Kg, cols] -> chunk [bn, K, P]: rows of P values per (image, channel)
      if (!direct) for (let b = 0; b < bn; b++) rt.k.copyRows(cAt + b * P * 4, ldcN * 4, stageAt + (b * k + co0) * P * 4, P * 4, kg, P * 4);
    }
    sink(n0, bn, stageAt);
  }
  return true;
}
