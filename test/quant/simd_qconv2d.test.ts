// Oracle: the reference loops qconv2dNaive (checked against a BigInt convolution in qconv2d.test.ts), bit for bit:
// random geometry (stride, zero-point padding, dilation, groups), signedness, per-channel weight zero points, bias;
// both packing paths (rows of 8 output pixels with stride 1 or 2, and the gather path), images batched into one
// GEMM with a partial last chunk, and the ResNet-20 / ViT patch-embedding layer shapes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type QConv2dParams, qconv2dNaive } from "../../src/quant/kernels/cpu/qconv2d.js";
import { qconv2dSimd, qconv2dSimdInto } from "../../src/quant/kernels/simd/index.js";
import type { QCodes } from "../../src/quant/qtensor.js";
import { Rng } from "../../src/tensor/rng.js";
import { ShapeError } from "../../src/tensor/shape.js";
import { simdSupported } from "../../src/wasm/features.js";
import { randomCodes } from "./oracle.js";

interface ConvCase {
  x: QCodes;
  w: QCodes;
  bias: Int32Array | null;
  p: QConv2dParams;
}

interface Geometry {
  n: number;
  cg: number;
  kg: number;
  groups: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

function makeConv(rng: Rng, g: Geometry, xSigned: boolean, wSigned: boolean, perChannel: boolean, withBias: boolean): ConvCase {
  const c = g.cg * g.groups;
  const k = g.kg * g.groups;
  const z = (signed: boolean): number => (signed ? rng.int(-128, 128) : rng.int(0, 256));
  return {
    x: randomCodes(rng, g.n * c * g.h * g.w, xSigned),
    w: randomCodes(rng, k * g.cg * g.kh * g.kw, wSigned),
    bias: withBias ? Int32Array.from({ length: k }, () => rng.int(-(2 ** 20), 2 ** 20)) : null,
    p: {
      inputShape: [g.n, c, g.h, g.w],
      weightShape: [k, g.cg, g.kh, g.kw],
      stride: g.stride,
      padding: g.padding,
      dilation: g.dilation,
      groups: g.groups,
      xZeroPoint: z(xSigned),
      wZeroPoint: perChannel ? Int32Array.from({ length: k }, () => z(wSigned)) : Int32Array.of(z(wSigned)),
    },
  };
}

function fits(g: Geometry): boolean {
  const oh = Math.floor((g.h + 2 * g.padding[0] - g.dilation[0] * (g.kh - 1) - 1) / g.stride[0]) + 1;
  const ow = Math.floor((g.w + 2 * g.padding[1] - g.dilation[1] * (g.kw - 1) - 1) / g.stride[1]) + 1;
  return oh > 0 && ow > 0;
}

function expectSame(c: ConvCase): void {
  expect(qconv2dSimd(c.x, c.w, c.bias, c.p)).toEqual(qconv2dNaive(c.x, c.w, c.bias, c.p));
}

const small = (lo: number, hi: number): fc.Arbitrary<number> => fc.integer({ min: lo, max: hi });
const geometry = fc
  .record({
    n: small(1, 3),
    cg: small(1, 4),
    kg: small(1, 6),
    groups: small(1, 3),
    h: small(1, 10),
    // w = 8 * stride * r (+ 2 * padding - ...) often gives OW % 8 == 0: the rows path
    w: fc.oneof(small(1, 19), small(1, 3).map((r) => 8 * r)),
    kh: small(1, 3),
    kw: small(1, 3),
    stride: fc.tuple(small(1, 3), small(1, 3)),
    padding: fc.tuple(small(0, 2), small(0, 2)),
    dilation: fc.tuple(small(1, 2), small(1, 2)),
  })
  .filter(fits);

describe.skipIf(!simdSupported())("qconv2dSimd (skipped: this engine has no WebAssembly SIMD128)", () => {
  it("equals qconv2dNaive bit for bit (stride, zero-point padding, dilation, groups, signedness, per-channel, bias)", () => {
    fc.assert(
      fc.property(geometry, fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer(), (g, xs, ws, pc, b, seed) => {
        expectSame(makeConv(new Rng(seed), g, xs, ws, pc, b));
      }),
      { numRuns: 300 },
    );
  });

  it("rows path: OW % 8 == 0 with stride 1 and 2, odd and even Kc, several images per GEMM", () => {
    const rng = new Rng(4);
    for (const stride of [1, 2]) {
      for (const [cg, kh] of [
        [1, 1],
        [3, 3],
        [2, 3],
        [5, 1],
      ]) {
        for (const xSigned of [false, true]) {
          const g: Geometry = { n: 3, cg, kg: 5, groups: 1, h: 8 * stride, w: 8 * stride, kh, kw: kh, stride: [stride, stride], padding: [kh >> 1, kh >> 1], dilation: [1, 1] };
          expectSame(makeConv(rng, g, xSigned, !xSigned, true, true));
        }
      }
    }
  });

  it("ResNet-20 layers, images batched with a partial last chunk (8x8 maps: 16 images per GEMM, 17 images)", () => {
    const rng = new Rng(8);
    const layers: Geometry[] = [
      { n: 2, cg: 3, kg: 16, groups: 1, h: 32, w: 32, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
      { n: 2, cg: 16, kg: 16, groups: 1, h: 32, w: 32, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
      { n: 3, cg: 16, kg: 32, groups: 1, h: 32, w: 32, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1], dilation: [1, 1] },
      { n: 3, cg: 16, kg: 32, groups: 1, h: 32, w: 32, kh: 1, kw: 1, stride: [2, 2], padding: [0, 0], dilation: [1, 1] },
      { n: 17, cg: 8, kg: 12, groups: 1, h: 8, w: 8, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
    ];
    for (const g of layers) expectSame(makeConv(rng, g, false, true, true, true));
  });

  it("gather path: ViT patch embedding (16x16 kernel, stride 16, OW = 2) and odd output widths", () => {
    const rng = new Rng(12);
    expectSame(makeConv(rng, { n: 2, cg: 3, kg: 9, groups: 1, h: 32, w: 32, kh: 16, kw: 16, stride: [16, 16], padding: [0, 0], dilation: [1, 1] }, true, true, true, true));
    expectSame(makeConv(rng, { n: 70, cg: 2, kg: 3, groups: 1, h: 5, w: 5, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] }, false, true, false, true));
    expectSame(makeConv(rng, { n: 2, cg: 2, kg: 4, groups: 2, h: 9, w: 20, kh: 3, kw: 2, stride: [3, 3], padding: [2, 1], dilation: [2, 1] }, true, false, true, false));
  });

  it("padding is the input zero point: an input of all zX gives exactly the bias (signed and unsigned)", () => {
    for (const [signed, zX] of [
      [false, 37],
      [true, -5],
    ] as const) {
      const x = signed ? new Int8Array(2 * 2 * 16 * 16).fill(zX) : new Uint8Array(2 * 2 * 16 * 16).fill(zX);
      const w = randomCodes(new Rng(3), 3 * 2 * 9, true);
      const bias = Int32Array.of(5, -6, 7);
      const p: QConv2dParams = { inputShape: [2, 2, 16, 16], weightShape: [3, 2, 3, 3], stride: [1, 1], padding: [2, 2], dilation: [1, 1], groups: 1, xZeroPoint: zX, wZeroPoint: new Int32Array(3) };
      const y = qconv2dSimd(x, w, bias, p);
      expect(y).toEqual(qconv2dNaive(x, w, bias, p));
      expect(new Set(y.subarray(0, 18 * 18))).toEqual(new Set([5]));
    }
  });

  it("a zero point outside the byte range with padding falls back to the JS kernel, still bit-exact", () => {
    const rng = new Rng(6);
    const g: Geometry = { n: 1, cg: 2, kg: 3, groups: 1, h: 8, w: 8, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] };
    const c = makeConv(rng, g, true, true, false, true);
    expectSame({ ...c, p: { ...c.p, xZeroPoint: 200 } });
  });

  it("qconv2dSimdInto overwrites every value of a reused buffer (SIMD path, JS fallback, Kc over one k block)", () => {
    const rng = new Rng(14);
    const cases = [
      makeConv(rng, { n: 3, cg: 3, kg: 16, groups: 1, h: 8, w: 8, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] }, false, true, false, true),
      makeConv(rng, { n: 2, cg: 3, kg: 5, groups: 1, h: 32, w: 32, kh: 16, kw: 16, stride: [16, 16], padding: [0, 0], dilation: [1, 1] }, true, true, true, false),
    ];
    const fallback = makeConv(rng, { n: 1, cg: 2, kg: 3, groups: 1, h: 8, w: 8, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] }, true, true, false, true);
    cases.push({ ...fallback, p: { ...fallback.p, xZeroPoint: 200 } });
    for (const c of cases) {
      const want = qconv2dNaive(c.x, c.w, c.bias, c.p);
      const y = new Int32Array(want.length).fill(-123456789);
      qconv2dSimdInto(c.x, c.w, c.bias, c.p, y);
      expect(y).toEqual(want);
      qconv2dSimdInto(c.x, c.w, c.bias, c.p, y); // again into the same, now full, buffer
      expect(y).toEqual(want);
    }
    const c = cases[0];
    expect(() => qconv2dSimdInto(c.x, c.w, c.bias, c.p, new Int32Array(10))).toThrow(/qconv2dSimd: output must be \[N, K, OH, OW\] = \[3, 16, 8, 8\] \(3072 values\), got 10/);
  });

  it("rejects bad shapes with named errors", () => {
    const p: QConv2dParams = { inputShape: [1, 4, 5, 5], weightShape: [6, 2, 3, 3], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 2, xZeroPoint: 0, wZeroPoint: Int32Array.of(0) };
    expect(() => qconv2dSimd(new Int8Array(99), new Int8Array(108), null, p)).toThrow(/qconv2dSimd: input must be/);
    expect(() => qconv2dSimd(new Int8Array(100), new Int8Array(108), null, { ...p, groups: 3 })).toThrow(ShapeError);
    expect(() => qconv2dSimd(new Int8Array(100), new Int8Array(108), null, { ...p, wZeroPoint: new Int32Array(4) })).toThrow(/wZeroPoint/);
  });
});
