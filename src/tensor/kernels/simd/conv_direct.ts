// Direct 2-D convolution on WebAssembly SIMD128, no im2col, for any stride, padding and dilation where the
// output channels per group are a multiple of 4, the output rows fill tiles of 8 columns to at least 80 %
// and the reduction Kc is small (<= 576: every CIFAR ResNet conv, ImageNet stems and 64-channel stages, ViT
// patch embeddings of small patches); elsewhere im2col + GEMM (conv.ts) is as fast or faster.
// Rows of OW % 8 != 0 are computed OWp = ceil(OW/8)*8 wide, and compactRows drops the extra columns.
// N=batch C=in channels H,W=in spatial K=out channels kh,kw=kernel OH,OW=out spatial G=groups P=OH*OW
//   x: [N, C, H, W]   w: [K, C/G, kh, kw]   bias: [K]   out: [N, K, OH, OW]
// Per chunk of bn images, in wasm memory: the input is copied in (one set()), padSplit writes its padded,
// stride-split planes, convTiles runs the 4x8 register tile over them for each image and group (tab holds
// the byte offset of each of the Kc = C/G*kh*kw taps, see conv_direct_kernel.ts), writing the chunk's
// output [bn, K, P] (bias preloaded; [bn, K, OH, OWp] then compacted when OW % 8 != 0) that one set()
// copies out. The weights are packed once per call into the GEMM's A panels. Float32 accumulation, in the
// GEMM's order; tested against conv2dNaive.
import type { KernelSpecs } from "../../backend.js";
import { MR, NR } from "./gemm_kernel.js";
import { ensureFloats, getRuntime } from "./runtime.js";

type Inputs = KernelSpecs["conv2d"]["inputs"];
type Attrs = KernelSpecs["conv2d"]["attrs"];

/** Floats per chunk of images (input copy + split planes + output), so a chunk stays in L2. */
const CHUNK_FLOATS = 1 << 16;
/** Largest ratio of computed to needed output columns (tiles of 8 over OW); narrower maps go to im2col. */
const MAX_WIDTH_WASTE = 1.25;
/**
 * Largest Kc for the direct path. Measured (2 vCPU EPYC, loaded): Kc 27-576 (ResNet-20, ImageNet 7x7 stem,
 * CIFAR ViT patches) ran 1.2-2.2x faster direct than im2col + GEMM; Kc 768-4608 (ViT-B/16 patches, ResNet-50
 * 3x3 layers) 10-25 % slower: a tile's taps then span more input than L1 holds and its A panel streams from
 * L2, where the GEMM's KC blocking keeps both in L1.
 */
const MAX_DIRECT_KC = 576;
/** Packed weights per convTiles call (half of a 32 KiB L1). */
const A_BLOCK_BYTES = 16384;

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Whether conv2dDirectInto handles this conv (else the im2col path of conv.ts runs). */
export function directConvApplies(inputs: Inputs, attrs: Attrs): boolean {
  const [K, Cg, kh, kw] = inputs.w.shape;
  const G = attrs.groups;
  const OW = attrs.outShape[3];
  const depthwise = Cg === 1 && G > 1;
  // tiles span 8 output columns: a row of OW costs ceil(OW / 8) * 8, at most 25 % more (OW 7, 13-16, 26-32, ...)
  const waste = (Math.ceil(OW / NR) * NR) / OW;
  return !depthwise && (K / G) % MR === 0 && waste <= MAX_WIDTH_WASTE && Cg * kh * kw <= MAX_DIRECT_KC;
}

/** Byte offsets of the Kc taps in a channel's split planes (see conv_direct_kernel.ts). */
function tapOffsets(heapI32: Int32Array, at: number, Cg: number, kh: number, kw: number, attrs: Attrs, Hs: number, Ws: number): void {
  const [sh, sw] = attrs.stride;
  const [dh, dw] = attrs.dilation;
  let k = at;
  for (let c = 0; c < Cg; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const phase = (c * sh + ((i * dh) % sh)) * sw + ((j * dw) % sw);
        heapI32[k++] = (phase * Hs * Ws + Math.floor((i * dh) / sh) * Ws + Math.floor((j * dw) / sw)) * 4;
      }
    }
  }
}

/** out (length N*K*OH*OW) = conv2d(x, w, bias); needs directConvApplies. */
export function conv2dDirectInto({ x, w, bias }: Inputs, attrs: Attrs, o: Float32Array): void {
  const [N, C, H, W] = x.shape;
  const [K, Cg, kh, kw] = w.shape;
  const [, , OH, OW] = attrs.outShape;
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const G = attrs.groups;
  const Kg = K / G;
  const Kc = Cg * kh * kw;
  const P = OH * OW;
  if (N * K * P === 0) return;
  // tiles of 8 cover OWp = OW rounded up to 8 columns; the input planes are wide enough for the last tile's taps
  const OWp = Math.ceil(OW / NR) * NR;
  const Pw = OH * OWp; // floats of one output plane as the tiles write it
  const Hs = Math.ceil((H + 2 * ph) / sh);
  const Ws = Math.ceil(Math.max(Math.ceil((W + 2 * pw) / sw), OWp + Math.floor(((kw - 1) * attrs.dilation[1]) / sw)) / 4) * 4;
  const plane = sh * sw * Hs * Ws; // floats of one channel's split planes
  const img = C * H * W;
  const before = pw + 8; // padSplit's reads around the input copy
  const after = sw * Ws + 8;
  const wide = OWp !== OW;
  // output channels per convTiles call: their packed weights (Kc * 16 bytes per 4 channels) stay in L1
  const mBlock = MR * Math.max(1, Math.min(Kg / MR, Math.floor(A_BLOCK_BYTES / (Kc * MR * 4))));
  const bnMax = Math.max(1, Math.min(N, Math.floor(CHUNK_FLOATS / (img + C * plane + K * Pw + (wide ? K * P : 0)))));
  // wasm memory: [w | A packed | tab | out chunk (wide) | out chunk compacted (wide only) | slack, x chunk, slack | split planes]
  const wAt = 0;
  const aAt = align16(wAt + K * Kc);
  const tabAt = align16(aAt + K * Kc);
  const cAt = align16(tabAt + Kc);
  const dAt = wide ? align16(cAt + bnMax * K * Pw) : cAt;
  const xAt = align16(dAt + bnMax * K * P + 4 + before);
  const sAt = align16(xAt + bnMax * img + after);
  const rt = getRuntime();
  const heap = ensureFloats(rt, sAt + bnMax * C * plane);
  heap.set(w.data.subarray(0, K * Kc), wAt);
  rt.gemm.packTransA(wAt * 4, Kc * 4, aAt * 4, Kc, K / MR);
  tapOffsets(rt.heapI32, tabAt, Cg, kh, kw, attrs, Hs, Ws);
  for (let n0 = 0; n0 < N; n0 += bnMax) {
    const bn = Math.min(bnMax, N - n0);
    heap.set(x.data.subarray(n0 * img, (n0 + bn) * img), xAt);
    rt.padSplit(xAt * 4, sAt * 4, bn * C, H, W, ph, pw, sh, sw, Hs, Ws);
    if (bias) for (let r = 0; r < bn * K; r++) heap.fill(bias.data[r % K], cAt + r * Pw, cAt + (r + 1) * Pw);
    for (let b = 0; b < bn; b++) {
      for (let g = 0; g < G; g++) {
        const src = sAt + (b * C + g * Cg) * plane;
        for (let m = 0; m < Kg; m += mBlock) {
          const rows = Math.min(mBlock, Kg - m);
          const dst = cAt + (b * K + g * Kg + m) * Pw;
          rt.convTiles((aAt + (g * Kg + m) * Kc) * 4, src * 4, tabAt * 4, Kc, dst * 4, Pw * 4, rows / MR, OH, OWp / NR, Ws * 4, OWp * 4, bias ? 1 : 0);
        }
      }
    }
    if (wide) rt.compactRows(cAt * 4, dAt * 4, bn * K * OH, OWp, OW);
    o.set(heap.subarray(dAt, dAt + bn * K * P), n0 * K * P);
  }
}
