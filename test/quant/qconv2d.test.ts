// Oracle: a BigInt direct convolution written from the definition (explicit padded input filled with zX), bit for bit
// against the naive and the im2col kernels, raw int32 and requantized.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { qconv2dDims, qconv2dFast, qconv2dNaive, type QConv2dParams } from "../../src/quant/kernels/cpu/qconv2d.js";
import { qgemmNaive } from "../../src/quant/kernels/cpu/qgemm.js";
import { makeRequantizeStage, requantize } from "../../src/quant/kernels/cpu/requantize.js";
import { chooseQParams, type QCodes } from "../../src/quant/qtensor.js";
import { Rng } from "../../src/tensor/rng.js";
import { ShapeError } from "../../src/tensor/shape.js";
import { expectBitExact, randomCodes, requantizeOracle, toInt32 } from "./oracle.js";

/** Pads X explicitly with zX, then sums (X - zX)(W - zW) over each window in BigInt. */
function qconv2dOracle(x: QCodes, w: QCodes, bias: Int32Array | null, p: QConv2dParams): Int32Array {
  const [n, c, h, wd] = p.inputShape;
  const [k, cg, kh, kw] = p.weightShape;
  const [ph, pw] = p.padding;
  const { oh, ow } = qconv2dDims("oracle", p);
  const hp = h + 2 * ph;
  const wp = wd + 2 * pw;
  const padded = new Array<number>(n * c * hp * wp).fill(p.xZeroPoint);
  for (let b = 0; b < n; b++)
    for (let ci = 0; ci < c; ci++)
      for (let y = 0; y < h; y++) for (let xx = 0; xx < wd; xx++) padded[((b * c + ci) * hp + y + ph) * wp + xx + pw] = x[((b * c + ci) * h + y) * wd + xx];
  const out = new Int32Array(n * k * oh * ow);
  const kg = k / p.groups;
  for (let b = 0; b < n; b++)
    for (let co = 0; co < k; co++) {
      const g = Math.floor(co / kg);
      const zW = BigInt(p.wZeroPoint.length === 1 ? p.wZeroPoint[0] : p.wZeroPoint[co]);
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let acc = bias ? BigInt(bias[co]) : 0n;
          for (let ci = 0; ci < cg; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const y = oy * p.stride[0] + ky * p.dilation[0];
                const xx = ox * p.stride[1] + kx * p.dilation[1];
                const xv = BigInt(padded[((b * c + g * cg + ci) * hp + y) * wp + xx]) - BigInt(p.xZeroPoint);
                acc += xv * (BigInt(w[((co * cg + ci) * kh + ky) * kw + kx]) - zW);
              }
          out[((b * k + co) * oh + oy) * ow + ox] = toInt32(acc, "conv acc");
        }
    }
  return out;
}

interface ConvCase {
  x: QCodes;
  w: QCodes;
  bias: Int32Array | null;
  p: QConv2dParams;
  rng: Rng;
}

const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 3 }),
    kg: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 7 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    xSigned: fc.boolean(),
    wSigned: fc.boolean(),
    perChannel: fc.boolean(),
    withBias: fc.boolean(),
    seed: fc.integer(),
  })
  .filter((c) => c.h + 2 * c.padding[0] >= c.dilation[0] * (c.kh - 1) + 1 && c.w + 2 * c.padding[1] >= c.dilation[1] * (c.kw - 1) + 1)
  .map((c): ConvCase => {
    const rng = new Rng(c.seed);
    const cin = c.groups * c.cg;
    const k = c.groups * c.kg;
    const z = (signed: boolean) => (signed ? rng.int(-128, 128) : rng.int(0, 256));
    const p: QConv2dParams = {
      inputShape: [c.n, cin, c.h, c.w],
      weightShape: [k, c.cg, c.kh, c.kw],
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      xZeroPoint: z(c.xSigned),
      wZeroPoint: c.perChannel ? Int32Array.from({ length: k }, () => z(c.wSigned)) : Int32Array.of(c.wSigned ? 0 : z(false)),
    };
    return {
      x: randomCodes(rng, c.n * cin * c.h * c.w, c.xSigned),
      w: randomCodes(rng, k * c.cg * c.kh * c.kw, c.wSigned),
      bias: c.withBias ? Int32Array.from({ length: k }, () => rng.int(-(2 ** 20), 2 ** 20)) : null,
      p,
      rng,
    };
  });

describe("qconv2d", () => {
  it("naive and fast equal the BigInt convolution (stride, zero-point padding, dilation, groups, per-channel)", () => {
    fc.assert(
      fc.property(convCase, ({ x, w, bias, p }) => {
        const want = qconv2dOracle(x, w, bias, p);
        expectBitExact(qconv2dNaive(x, w, bias, p), want, "qconv2dNaive");
        expectBitExact(qconv2dFast(x, w, bias, p), want, "qconv2dFast");
      }),
      { numRuns: 300 },
    );
  });

  it("requantized outputs equal the BigInt requantization (channels = K, inner = OH*OW)", () => {
    fc.assert(
      fc.property(convCase, ({ x, w, bias, p, rng }) => {
        const k = p.weightShape[0];
        const { oh, ow } = qconv2dDims("test", p);
        const sW = Float32Array.from({ length: k }, () => rng.uniformIn(1e-4, 1e-2));
        const out = chooseQParams(-rng.uniformIn(0, 20), rng.uniformIn(0.5, 20), 8, rng.uniform() < 0.5, false);
        const stage = makeRequantizeStage(rng.uniformIn(1e-3, 1e-1), sW, out);
        const layout = { channels: k, inner: oh * ow };
        const want = requantizeOracle(qconv2dOracle(x, w, bias, p), k, oh * ow, stage);
        expectBitExact(requantize(qconv2dNaive(x, w, bias, p), layout, stage), want, "naive");
        expectBitExact(requantize(qconv2dFast(x, w, bias, p), layout, stage), want, "fast");
      }),
      { numRuns: 150 },
    );
  });

  it("padding is the input zero point: an input of all zX gives exactly the bias", () => {
    const rng = new Rng(3);
    const p: QConv2dParams = {
      inputShape: [1, 2, 4, 4],
      weightShape: [3, 2, 3, 3],
      stride: [1, 1],
      padding: [2, 2],
      dilation: [1, 1],
      groups: 1,
      xZeroPoint: 37,
      wZeroPoint: new Int32Array(3),
    };
    const x = new Uint8Array(32).fill(37);
    const w = randomCodes(rng, 54, true);
    const bias = Int32Array.of(5, -6, 7);
    const { oh, ow } = qconv2dDims("test", p);
    const want = Array.from({ length: 3 * oh * ow }, (_, i) => bias[Math.floor(i / (oh * ow))]);
    expectBitExact(qconv2dNaive(x, w, bias, p), want, "naive");
    expectBitExact(qconv2dFast(x, w, bias, p), want, "fast");
  });

  it("a 1x1 convolution is the GEMM W x X per image", () => {
    const rng = new Rng(11);
    const p: QConv2dParams = {
      inputShape: [1, 5, 3, 2],
      weightShape: [4, 5, 1, 1],
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      groups: 1,
      xZeroPoint: -9,
      wZeroPoint: Int32Array.of(1, 2, 3, 4),
    };
    const x = randomCodes(rng, 30, true);
    const w = randomCodes(rng, 20, true);
    // Y^T[px, co] = sum_ci (X^T[px, ci] - zX)(W[co, ci] - zW[co]): A = X^T [M=6, K=5], B = W [N=4, K=5]
    const xT = new Int8Array(30);
    for (let ci = 0; ci < 5; ci++) for (let px = 0; px < 6; px++) xT[px * 5 + ci] = x[ci * 6 + px];
    const yT = qgemmNaive(xT, w, null, { m: 6, n: 4, k: 5, transposeB: true, aZeroPoint: -9, bZeroPoint: p.wZeroPoint });
    const conv = qconv2dFast(x, w, null, p);
    for (let co = 0; co < 4; co++) for (let px = 0; px < 6; px++) expect(conv[co * 6 + px]).toBe(yT[px * 4 + co]);
  });

  it("rejects bad shapes and groups with named errors", () => {
    const base: QConv2dParams = {
      inputShape: [1, 4, 5, 5],
      weightShape: [6, 2, 3, 3],
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      groups: 2,
      xZeroPoint: 0,
      wZeroPoint: Int32Array.of(0),
    };
    expect(qconv2dDims("t", base)).toMatchObject({ oh: 3, ow: 3, cg: 2, kg: 3 });
    expect(() => qconv2dDims("t", { ...base, groups: 3 })).toThrow(ShapeError);
    expect(() => qconv2dDims("t", { ...base, inputShape: [1, 4, 2, 2] })).toThrow(/does not fit/);
    expect(() => qconv2dNaive(new Int8Array(99), new Int8Array(108), null, base)).toThrow(/qconv2dNaive: input must be/);
    expect(() => qconv2dFast(new Int8Array(100), new Int8Array(108), null, { ...base, wZeroPoint: new Int32Array(4) })).toThrow(/wZeroPoint/);
  });
});
