// 2-D convolution (NCHW, as PyTorch) lowered onto the SIMD GEMM, tested against conv2dNaive.
// N=batch C=in channels H,W=in spatial K=out channels kh,kw=kernel OH,OW=out spatial G=groups P=OH*OW
//   x: [N, C, H, W]   w: [K, C/G, kh, kw]   bias: [K]   out: [N, K, OH, OW]
// Per group g and batch of nb images: out[n, g*Kg:(g+1)*Kg, :] = w_g [Kg, Kc] x col [Kc, nb*P],
// Kc = C/G*kh*kw, where col holds the im2col matrices of nb images side by side. Small feature maps are
// batched (nb*P >= COLS_TARGET) so each GEMM has enough columns and packs w_g once for nb images.
// col is written by the emitted im2col (conv_kernel.ts) straight into wasm memory in the GEMM's packed B
// layout (PackedB): never copied, never repacked. When whole tiles fit each image (P % NR == 0 and
// Kg % MR == 0, as in ResNets) the GEMM writes the out chunk [nb, K, P] in wasm memory, bias preloaded,
// and one set() copies it out; otherwise the GEMM scatters its columns to the images' outputs.
// Depthwise convs (one input channel per group) run as the direct loops of the cpu kernel. Convs with
// OW % 8 == 0 and K/G % 4 == 0 (every ResNet-20 conv) skip im2col: conv_direct.ts.
import type { KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";
import { conv2dWithGemm } from "../cpu/conv.js";
import { conv2dDirectInto, directConvApplies } from "./conv_direct.js";
import { gemmPackedInto, gemmSimd, gemmSimdGrouped, packedBSize, reserveScratch } from "./gemm.js";
import { MR, NR } from "./gemm_kernel.js";
import { getRuntime } from "./runtime.js";

type Inputs = KernelSpecs["conv2d"]["inputs"];
type Attrs = KernelSpecs["conv2d"]["attrs"];

const COLS_TARGET = 1024; // GEMM columns per call when batching images with small feature maps

const perImage = conv2dWithGemm(gemmSimd);

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/**
 * Writes the im2col tables of conv_kernel.ts at heapI32[at...]: tabJ (3 ints per kernel column) then
 * tabY (one int per kernel row and output row). Returns the float offsets of both and the end.
 */
function im2colTables(heapI32: Int32Array, at: number, H: number, W: number, kh: number, kw: number, attrs: Attrs, OH: number, OW: number): { tabJ: number; tabY: number; end: number } {
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const [dh, dw] = attrs.dilation;
  const tabJ = at;
  for (let j = 0; j < kw; j++) {
    // ix = ox*sw + x0 is inside [0, W) for ox in [lo, hi)
    const x0 = j * dw - pw;
    const lo = Math.min(OW, Math.max(0, Math.ceil(-x0 / sw)));
    const hi = Math.max(lo, Math.min(OW, Math.floor((W - 1 - x0) / sw) + 1));
    heapI32[tabJ + 3 * j] = x0 * 4;
    heapI32[tabJ + 3 * j + 1] = lo;
    heapI32[tabJ + 3 * j + 2] = hi;
  }
  const tabY = tabJ + 3 * kw;
  for (let i = 0; i < kh; i++) {
    for (let oy = 0; oy < OH; oy++) {
      const iy = oy * sh - ph + i * dh;
      heapI32[tabY + i * OH + oy] = iy >= 0 && iy < H ? iy * W * 4 : -1;
    }
  }
  return { tabJ, tabY, end: tabY + kh * OH };
}

export function conv2dSimd(inputs: Inputs, attrs: Attrs): Tensor {
  const { w, x } = inputs;
  const G = attrs.groups;
  if (G === x.shape[1] && w.shape[1] === 1 && G > 1) return perImage(inputs, attrs);
  const out = new Tensor(attrs.outShape);
  conv2dSimdInto(inputs, attrs, out.data);
  return out;
}

/** conv2dSimd writing into o (length N*K*OH*OW, contents overwritten): what benches time, next to peers that reuse their output. */
export function conv2dSimdInto(inputs: Inputs, attrs: Attrs, o: Float32Array): void {
  const G = attrs.groups;
  if (G === inputs.x.shape[1] && inputs.w.shape[1] === 1 && G > 1) {
    o.set(perImage(inputs, attrs).data);
    return;
  }
  if (directConvApplies(inputs, attrs)) conv2dDirectInto(inputs, attrs, o);
  else conv2dIm2colInto(inputs, attrs, o);
}

/** The im2col + GEMM path of conv2dSimdInto (any conv but depthwise). */
export function conv2dIm2colInto(inputs: Inputs, attrs: Attrs, o: Float32Array): void {
  const { x, w, bias } = inputs;
  const [N, C, H, W] = x.shape;
  const [K, Cg, kh, kw] = w.shape;
  const { groups: G, outShape } = attrs;
  const [, , OH, OW] = outShape;
  const P = OH * OW;
  const Kg = K / G;
  const Kc = Cg * kh * kw;
  if (P === 0 || K === 0 || N === 0) return;
  const nb = Math.max(1, Math.min(N, Math.floor(COLS_TARGET / P)));
  // Direct: the GEMM writes the out chunk [bn, K, P] in wasm memory (bias preloaded), copied out in one
  // set(); needs whole tiles per image and group. Otherwise the GEMM copies its C block out by rows.
  const direct = P % NR === 0 && Kg % MR === 0;
  const img = Cg * H * W;
  const slack = attrs.padding[1] + 4; // im2col's v128 loads reach this far outside the input planes
  const tables = 3 * kw + kh * OH;
  for (let n0 = 0; n0 < N; n0 += nb) {
    const bn = Math.min(nb, N - n0);
    const cols = bn * P;
    // wasm memory: [C chunk, w (direct only) | im2col tables | col packed for the GEMM | x of group g];
    // x is dead once col is built (the fallback GEMM copies w_g over it)
    // (each region 64-byte aligned, so the v128 accesses to col and C are aligned)
    const chunk = direct ? align16(bn * K * P) : 0;
    const wSize = direct ? align16(K * Kc) : 0;
    const colSize = packedBSize(Kc, cols);
    const xSize = slack + bn * img + slack;
    const front = chunk + wSize + align16(tables);
    const { heap, offset } = reserveScratch(Kg, cols, Kc, front + colSize + Math.max(xSize, Kg * Kc + 32));
    const cAt = offset;
    const wAt = offset + chunk;
    const tabAt = wAt + wSize;
    const colAt = offset + front;
    const xAt = colAt + colSize + slack;
    if (direct) {
      heap.set(w.data.subarray(0, K * Kc), wAt);
      if (bias) for (let r = 0; r < bn * K; r++) heap.fill(bias.data[r % K], cAt + r * P, cAt + (r + 1) * P);
    }
    const rt = getRuntime();
    const { tabJ, tabY } = im2colTables(rt.heapI32, tabAt, H, W, kh, kw, attrs, OH, OW);
    for (let g = 0; g < G; g++) {
      for (let b = 0; b < bn; b++) {
        const from = ((n0 + b) * C + g * Cg) * H * W;
        heap.set(x.data.subarray(from, from + img), xAt + b * img);
      }
      if (cols % NR !== 0) heap.fill(0, colAt + colSize - Kc * NR, colAt + colSize); // padding columns
      const im2col = attrs.stride[1] === 1 && OW % 4 === 0 ? rt.im2colPacked4 : rt.im2colPacked;
      for (let b = 0; b < bn; b++) {
        im2col((xAt + b * img) * 4, H * W * 4, Cg, kh, kw, OH, OW, attrs.stride[1], tabJ * 4, tabY * 4, colAt * 4, Kc * NR * 4, b * P);
      }
      const groups = { width: P, stride: K * P };
      if (direct) {
        const wg = { data: heap, offset: wAt + g * Kg * Kc, rowStride: Kc, colStride: 1 };
        gemmPackedInto(Kg, cols, Kc, wg, { packedOffset: colAt }, cAt + g * Kg * P, P, groups, bias !== null);
        continue;
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
      const wg = { data: w.data, offset: g * Kg * Kc, rowStride: Kc, colStride: 1 };
      gemmSimdGrouped(Kg, cols, Kc, wg, { packedOffset: colAt }, o, outOff, P, bias !== null, groups);
    }
    if (direct) o.set(heap.subarray(cAt, cAt + bn * K * P), n0 * K * P);
  }
}
