// Random conv2d configurations for property tests of fast conv kernels against conv2dNaive.
import fc from "fast-check";
import type { KernelSpecs } from "../../src/tensor/backend.js";
import { Rng, Tensor } from "../../src/tensor/index.js";

export function randomData(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniformIn(-1, 1);
  return a;
}

export interface ConvCaseParams {
  n: number; cg: number; g: number; kg: number; h: number; w: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number; bias: boolean; depthwise: boolean; seed: number;
}

/** Arbitrary conv configurations: batch up to maxN, kg output channels per group up to maxKg, spatial up to maxHW. */
export function convCaseArb(maxN: number, maxCg: number, maxKg: number, maxHW: number): fc.Arbitrary<ConvCaseParams> {
  return fc.record({
    n: fc.integer({ min: 1, max: maxN }),
    cg: fc.integer({ min: 1, max: maxCg }),
    g: fc.integer({ min: 1, max: 3 }),
    kg: fc.integer({ min: 1, max: maxKg }),
    h: fc.integer({ min: 1, max: maxHW }),
    w: fc.integer({ min: 1, max: maxHW }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    bias: fc.boolean(),
    depthwise: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 }),
  });
}

export interface ConvCase {
  inputs: KernelSpecs["conv2d"]["inputs"];
  attrs: KernelSpecs["conv2d"]["attrs"];
  /** Products summed per output (Cg * kh * kw). */
  reduction: number;
}

/** The tensors and attributes of a configuration, or null when the output would be empty. */
export function buildConvCase(p: ConvCaseParams): ConvCase | null {
  const cg = p.depthwise ? 1 : p.cg;
  const C = cg * p.g;
  const K = p.kg * p.g;
  const OH = Math.floor((p.h + 2 * p.ph - p.dh * (p.kh - 1) - 1) / p.sh) + 1;
  const OW = Math.floor((p.w + 2 * p.pw - p.dw * (p.kw - 1) - 1) / p.sw) + 1;
  if (OH < 1 || OW < 1) return null;
  const rng = new Rng(p.seed);
  const x = new Tensor([p.n, C, p.h, p.w], randomData(p.n * C * p.h * p.w, rng));
  const w = new Tensor([K, cg, p.kh, p.kw], randomData(K * cg * p.kh * p.kw, rng));
  const bias = p.bias ? new Tensor([K], randomData(K, rng)) : null;
  const attrs = { stride: [p.sh, p.sw] as const, padding: [p.ph, p.pw] as const, dilation: [p.dh, p.dw] as const, groups: p.g, outShape: [p.n, K, OH, OW] };
  return { inputs: { x, w, bias }, attrs, reduction: cg * p.kh * p.kw };
}

/**
 * Configurations the simd backend's direct conv takes (kernels/simd/conv_direct.ts: output width 7, 8, 14 or
 * 16, output channels per group a multiple of 4, Kc <= 144), with the ResNet stem's 3 input channels and
 * strides 1 to 4 drawn often: the width is solved from OW, so every stride / padding / dilation / kernel mix
 * lands on it.
 */
export function directConvCaseArb(maxN: number): fc.Arbitrary<ConvCaseParams> {
  return fc
    .record({
      n: fc.integer({ min: 1, max: maxN }),
      cg: fc.oneof(fc.constant(3), fc.integer({ min: 1, max: 9 })),
      g: fc.integer({ min: 1, max: 2 }),
      kg: fc.constantFrom(4, 8, 12),
      h: fc.integer({ min: 1, max: 12 }),
      ow: fc.constantFrom(7, 8, 14, 16), // 7 and 14: rows computed 8 / 16 wide, then compacted
      wExtra: fc.integer({ min: 0, max: 3 }),
      kh: fc.integer({ min: 1, max: 4 }),
      kw: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 4 }),
      sw: fc.oneof(fc.constant(2), fc.integer({ min: 1, max: 4 })),
      ph: fc.integer({ min: 0, max: 2 }),
      pw: fc.integer({ min: 0, max: 2 }),
      dh: fc.integer({ min: 1, max: 2 }),
      dw: fc.integer({ min: 1, max: 2 }),
      bias: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
    })
    .map((p) => {
      // OW = floor((w + 2pw - dw(kw-1) - 1) / sw) + 1 for w = (OW-1)*sw + dw(kw-1) + 1 - 2pw + (0..sw-1)
      const w = Math.max(1, (p.ow - 1) * p.sw + p.dw * (p.kw - 1) + 1 - 2 * p.pw + (p.wExtra % p.sw));
      return { ...p, w, depthwise: false };
    });
}
