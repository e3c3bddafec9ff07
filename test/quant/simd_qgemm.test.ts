// Oracle: the reference loops qgemmNaive / qbmmNaive (themselves checked against BigInt in qgemm.test.ts), bit for bit:
// random shapes, zero points, signedness, per-channel B zero points, bias, transposeB both ways; edge sizes around
// the 4 x 8 register tile and past the cache blocks; the worst-case magnitudes at the largest K the bound accepts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_K_8BIT_ANY_ZERO_POINTS, MAX_K_8BIT_SYMMETRIC_WEIGHTS } from "../../src/quant/accumulator.js";
import { qbmmNaive, qgemmNaive, type QGemmParams } from "../../src/quant/kernels/cpu/qgemm.js";
import { qbmmSimd, qgemmSimd, qgemmSimdInto, simdQKernels } from "../../src/quant/kernels/simd/index.js";
import type { QCodes } from "../../src/quant/qtensor.js";
import { Rng } from "../../src/tensor/rng.js";
import { ShapeError } from "../../src/tensor/shape.js";
import { simdSupported } from "../../src/wasm/features.js";
import { randomCodes } from "./oracle.js";

interface Case {
  a: QCodes;
  b: QCodes;
  bias: Int32Array | null;
  p: QGemmParams;
}

function makeCase(rng: Rng, m: number, n: number, k: number, flags: { transposeB: boolean; aSigned: boolean; bSigned: boolean; zb: "zero" | "tensor" | "channel"; bias: boolean }): Case {
  const z = (signed: boolean): number => (signed ? rng.int(-128, 128) : rng.int(0, 256));
  const bZeroPoint = flags.zb === "zero" ? Int32Array.of(0) : flags.zb === "tensor" ? Int32Array.of(z(flags.bSigned)) : Int32Array.from({ length: n }, () => z(flags.bSigned));
  return {
    a: randomCodes(rng, m * k, flags.aSigned),
    b: randomCodes(rng, n * k, flags.bSigned),
    bias: flags.bias ? Int32Array.from({ length: n }, () => rng.int(-(2 ** 20), 2 ** 20)) : null,
    p: { m, n, k, transposeB: flags.transposeB, aZeroPoint: z(flags.aSigned), bZeroPoint },
  };
}

const flagsArb = fc.record({
  transposeB: fc.boolean(),
  aSigned: fc.boolean(),
  bSigned: fc.boolean(),
  zb: fc.constantFrom("zero" as const, "tensor" as const, "channel" as const),
  bias: fc.boolean(),
});

function expectSame(c: Case): void {
  expect(qgemmSimd(c.a, c.b, c.bias, c.p)).toEqual(qgemmNaive(c.a, c.b, c.bias, c.p));
}

describe.skipIf(!simdSupported())("qgemmSimd (skipped: this engine has no WebAssembly SIMD128)", () => {
  it("simdQKernels() returns the SIMD kernels", () => {
    expect(simdQKernels()?.qgemm).toBe(qgemmSimd);
  });

  it("equals qgemmNaive bit for bit (random shapes, zero points, signedness, per-channel, bias, transposeB)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 21 }), fc.integer({ min: 1, max: 37 }), fc.integer({ min: 1, max: 70 }), flagsArb, fc.integer(), (m, n, k, flags, seed) => {
        expectSame(makeCase(new Rng(seed), m, n, k, flags));
      }),
      { numRuns: 300 },
    );
  });

  it("edge sizes around the 4 x 8 tile and the 8-wide packing steps", () => {
    const sizes = [1, 3, 7, 8, 9, 15, 16, 17];
    const rng = new Rng(5);
    for (const m of sizes) {
      for (const n of sizes) {
        for (const k of sizes) {
          const flags = { transposeB: rng.uniform() < 0.5, aSigned: rng.uniform() < 0.5, bSigned: rng.uniform() < 0.5, zb: "channel" as const, bias: true };
          expectSame(makeCase(rng, m, n, k, flags));
        }
      }
    }
  });

  it("sizes past the cache blocks (M > MC = 128 rows, N > the column block, K > KC = 512)", () => {
    const rng = new Rng(9);
    const shapes: [number, number, number][] = [
      [1030, 9, 19],
      [5, 2051, 21],
      [131, 17, 1031],
      [257, 33, 513],
      [300, 601, 40],
    ];
    for (const [m, n, k] of shapes) {
      for (const transposeB of [true, false]) {
        expectSame(makeCase(rng, m, n, k, { transposeB, aSigned: false, bSigned: true, zb: "channel", bias: true }));
      }
    }
  });

  it("k = 0 gives the bias; m = 0 or n = 0 give empty results", () => {
    const p = { m: 2, n: 3, k: 0, transposeB: true, aZeroPoint: 4, bZeroPoint: Int32Array.of(1) };
    const bias = Int32Array.of(1, -2, 3);
    expect(qgemmSimd(new Uint8Array(0), new Int8Array(0), bias, p)).toEqual(qgemmNaive(new Uint8Array(0), new Int8Array(0), bias, p));
    expect(qgemmSimd(new Uint8Array(0), new Int8Array(0), null, p)).toEqual(new Int32Array(6));
    expect(qgemmSimd(new Uint8Array(0), new Int8Array(12), null, { ...p, m: 0, k: 4 })).toEqual(new Int32Array(0));
  });

  it("worst-case magnitudes at the largest accepted K: any zero points (K = 33025), zero-point-0 int8 weights (K = 65793)", () => {
    for (const transposeB of [true, false]) {
      // |(a - zA)(b - zB)| = 255 * 255 per term: the sum reaches -+2147450625 and 2147450625
      const k = MAX_K_8BIT_ANY_ZERO_POINTS;
      const m = 3;
      const n = 9;
      const a = new Uint8Array(m * k).fill(255);
      const b = new Uint8Array(n * k);
      for (let j = 0; j < n * k; j++) b[j] = (transposeB ? Math.floor(j / k) : j % n) % 2 === 0 ? 0 : 255;
      const p = { m, n, k, transposeB, aZeroPoint: 0, bZeroPoint: Int32Array.from({ length: n }, (_, j) => (j % 3 === 0 ? 0 : 255)) };
      const got = qgemmSimd(a, b, null, p);
      expect(got).toEqual(qgemmNaive(a, b, null, p));
      expect(Math.max(...Array.from(got, Math.abs))).toBe(255 * 255 * k);
      expect(() => qgemmSimd(new Uint8Array(m * (k + 1)), new Uint8Array(n * (k + 1)), null, { ...p, k: k + 1 })).toThrow(RangeError);
    }
    for (const transposeB of [true, false]) {
      // uint8 activations 255 with zA = 0 times int8 weights -128 with zW = 0: -32640 per term
      const k = MAX_K_8BIT_SYMMETRIC_WEIGHTS;
      const a = new Uint8Array(2 * k).fill(255);
      const b = new Int8Array(3 * k).fill(-128);
      const p = { m: 2, n: 3, k, transposeB, aZeroPoint: 0, bZeroPoint: Int32Array.of(0) };
      const got = qgemmSimd(a, b, null, p);
      expect(got).toEqual(qgemmNaive(a, b, null, p));
      expect(got[0]).toBe(-32640 * k);
    }
  });

  it("zero points whose centered codes leave int16 fall back to the JS kernel, still bit-exact", () => {
    const rng = new Rng(3);
    const m = 3;
    const n = 5;
    const k = 4;
    const a = randomCodes(rng, m * k, false);
    const b = randomCodes(rng, n * k, true);
    const p = { m, n, k, transposeB: true, aZeroPoint: 40000, bZeroPoint: Int32Array.of(2) };
    expect(qgemmSimd(a, b, null, p)).toEqual(qgemmNaive(a, b, null, p));
  });

  it("qgemmSimdInto writes C at an offset and touches nothing else", () => {
    const c = makeCase(new Rng(21), 5, 9, 13, { transposeB: false, aSigned: true, bSigned: false, zb: "channel", bias: true });
    const out = new Int32Array(3 + 5 * 9 + 4).fill(-7);
    qgemmSimdInto(c.a, c.b, c.bias, c.p, out, 3);
    expect(out.subarray(3, 3 + 45)).toEqual(qgemmNaive(c.a, c.b, c.bias, c.p));
    expect([...out.subarray(0, 3), ...out.subarray(48)]).toEqual(new Array(7).fill(-7));
    expect(() => qgemmSimdInto(c.a, c.b, c.bias, c.p, new Int32Array(47), 3)).toThrow(/qgemmSimdInto: C must hold/);
  });

  it("rejects bad shapes with named errors", () => {
    const p = { m: 2, n: 3, k: 4, transposeB: true, aZeroPoint: 0, bZeroPoint: Int32Array.of(0) };
    expect(() => qgemmSimd(new Int8Array(7), new Int8Array(12), null, p)).toThrow(ShapeError);
    expect(() => qgemmSimd(new Int8Array(8), new Int8Array(12), null, { ...p, bZeroPoint: new Int32Array(2) })).toThrow(/qgemmSimd: bZeroPoint/);
    expect(() => qgemmSimd(new Int8Array(8), new Int8Array(12), new Int32Array(2), p)).toThrow(/qgemmSimd: bias/);
  });
});

describe.skipIf(!simdSupported())("qbmmSimd (skipped: this engine has no WebAssembly SIMD128)", () => {
  it("equals qbmmNaive bit for bit (attention shapes: q k^T and p v)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 40 }), flagsArb, fc.integer(), (batch, m, n, k, flags, seed) => {
        const rng = new Rng(seed);
        const a = randomCodes(rng, batch * m * k, flags.aSigned);
        const b = randomCodes(rng, batch * n * k, flags.bSigned);
        const p = { batch, m, n, k, transposeB: flags.transposeB, aZeroPoint: rng.int(0, 100), bZeroPoint: Int32Array.of(rng.int(-20, 20)) };
        expect(qbmmSimd(a, b, p)).toEqual(qbmmNaive(a, b, p));
      }),
      { numRuns: 150 },
    );
  });

  it("ViT-size heads: 3 heads x 65 tokens x 64 dims", () => {
    const rng = new Rng(2);
    for (const transposeB of [true, false]) {
      const [batch, m, n, k] = transposeB ? [3, 65, 65, 64] : [3, 65, 64, 65];
      const a = randomCodes(rng, batch * m * k, false);
      const b = randomCodes(rng, batch * n * k, true);
      const p = { batch, m, n, k, transposeB, aZeroPoint: 7, bZeroPoint: Int32Array.of(-3) };
      expect(qbmmSimd(a, b, p)).toEqual(qbmmNaive(a, b, p));
    }
  });

  it("rejects bad shapes with named errors", () => {
    const p = { batch: 2, m: 2, n: 3, k: 4, transposeB: true, aZeroPoint: 0, bZeroPoint: Int32Array.of(0) };
    expect(() => qbmmSimd(new Int8Array(15), new Int8Array(24), p)).toThrow(/qbmmSimd: A must be/);
    expect(() => qbmmSimd(new Int8Array(16), new Int8Array(23), p)).toThrow(/qbmmSimd: B must hold/);
  });
});
