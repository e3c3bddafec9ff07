// Oracles: (b) BigInt GEMM (oracle.ts), bit for bit, for the naive and the fast kernel, raw int32 and requantized;
// (a) a float64 GEMM on dequantized codes for the dequantize output stage, within DEQUANT_GEMM_REL_TOL.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_K_8BIT_ANY_ZERO_POINTS, MAX_K_8BIT_SYMMETRIC_WEIGHTS } from "../../src/quant/accumulator.js";
import { packQGemmB, qbmmFast, qbmmNaive, qgemmFast, qgemmNaive, qgemmPacked, type QGemmParams } from "../../src/quant/kernels/cpu/qgemm.js";
import { dequantizeAcc, makeRequantizeStage, requantize } from "../../src/quant/kernels/cpu/requantize.js";
import { chooseQParams, type QCodes } from "../../src/quant/qtensor.js";
import { Rng } from "../../src/tensor/rng.js";
import { ShapeError } from "../../src/tensor/shape.js";
import { expectBitExact, qgemmOracle, randomCodes, requantizeOracle } from "./oracle.js";

/** Dequantized int GEMM vs float64 GEMM of dequantized codes: |diff| <= tol * sum_k |a_k w_k| (relative to the terms). */
const DEQUANT_GEMM_REL_TOL = 1e-5;

interface GemmCase {
  a: QCodes;
  b: QCodes;
  bias: Int32Array | null;
  p: QGemmParams;
  rng: Rng;
}

const gemmCase = fc
  .record({
    m: fc.integer({ min: 1, max: 5 }),
    n: fc.integer({ min: 1, max: 9 }),
    k: fc.integer({ min: 1, max: 24 }),
    transposeB: fc.boolean(),
    aSigned: fc.boolean(),
    bSigned: fc.boolean(),
    bZeroPoints: fc.constantFrom("zero", "per-tensor", "per-channel"),
    withBias: fc.boolean(),
    seed: fc.integer(),
  })
  .map((c): GemmCase => {
    const rng = new Rng(c.seed);
    const zIn = (signed: boolean) => (signed ? rng.int(-128, 128) : rng.int(0, 256));
    const bZeroPoint =
      c.bZeroPoints === "zero"
        ? new Int32Array(c.n)
        : c.bZeroPoints === "per-tensor"
          ? Int32Array.of(zIn(c.bSigned))
          : Int32Array.from({ length: c.n }, () => zIn(c.bSigned));
    const bias = c.withBias ? Int32Array.from({ length: c.n }, () => rng.int(-(2 ** 20), 2 ** 20)) : null;
    return {
      a: randomCodes(rng, c.m * c.k, c.aSigned),
      b: randomCodes(rng, c.n * c.k, c.bSigned),
      bias,
      p: { m: c.m, n: c.n, k: c.k, transposeB: c.transposeB, aZeroPoint: zIn(c.aSigned), bZeroPoint },
      rng,
    };
  });

describe("qgemm int32 accumulators", () => {
  it("naive and fast equal the BigInt GEMM bit for bit (random shapes, zero points, per-channel, bias)", () => {
    fc.assert(
      fc.property(gemmCase, ({ a, b, bias, p }) => {
        const want = qgemmOracle(a, b, bias, p);
        expectBitExact(qgemmNaive(a, b, bias, p), want, "qgemmNaive");
        expectBitExact(qgemmFast(a, b, bias, p), want, "qgemmFast");
      }),
      { numRuns: 400 },
    );
  });

  it("a packed B is reusable across A matrices", () => {
    const rng = new Rng(7);
    const p: QGemmParams = { m: 3, n: 6, k: 10, transposeB: true, aZeroPoint: 4, bZeroPoint: new Int32Array(6) };
    const w = randomCodes(rng, 60, true);
    const packed = packQGemmB(w, null, p, false);
    for (let t = 0; t < 3; t++) {
      const a = randomCodes(rng, 30, false);
      expectBitExact(qgemmPacked(a, packed, 3), qgemmOracle(a, w, null, p), "qgemmPacked");
    }
  });

  it("per-channel zero points all equal give the per-tensor result", () => {
    fc.assert(
      fc.property(gemmCase, ({ a, b, bias, p }) => {
        const z = p.bZeroPoint[0];
        const perTensor = { ...p, bZeroPoint: Int32Array.of(z) };
        const perChannel = { ...p, bZeroPoint: new Int32Array(p.n).fill(z) };
        expectBitExact(qgemmNaive(a, b, bias, perChannel), qgemmNaive(a, b, bias, perTensor), "naive");
        expectBitExact(qgemmFast(a, b, bias, perChannel), qgemmFast(a, b, bias, perTensor), "fast");
      }),
      { numRuns: 100 },
    );
  });
});

describe("qgemm output stages", () => {
  it("requantized codes equal the BigInt requantization of the BigInt GEMM", () => {
    fc.assert(
      fc.property(gemmCase, fc.boolean(), ({ a, b, bias, p, rng }, outSigned) => {
        const sA = rng.uniformIn(1e-3, 1e-1);
        const sW = Float32Array.from({ length: p.n }, () => rng.uniformIn(1e-4, 1e-2));
        const sOut = rng.uniformIn(1e-3, 1);
        const out = chooseQParams(-sOut * rng.uniformIn(0, 200), sOut * rng.uniformIn(1, 200), 8, outSigned, false);
        const stage = makeRequantizeStage(sA, sW, out);
        const want = requantizeOracle(qgemmOracle(a, b, bias, p), p.n, 1, stage);
        expectBitExact(requantize(qgemmNaive(a, b, bias, p), { channels: p.n, inner: 1 }, stage), want, "naive");
        expectBitExact(requantize(qgemmFast(a, b, bias, p), { channels: p.n, inner: 1 }, stage), want, "fast");
        // per-channel multipliers with equal scales equal the per-tensor multiplier
        const acc = qgemmFast(a, b, bias, p);
        const equal = makeRequantizeStage(sA, new Float32Array(p.n).fill(sW[0]), out);
        const single = makeRequantizeStage(sA, Float32Array.of(sW[0]), out);
        expectBitExact(requantize(acc, { channels: p.n, inner: 1 }, equal), requantize(acc, { channels: p.n, inner: 1 }, single), "equal scales");
      }),
      { numRuns: 300 },
    );
  });

  it("dequantized int GEMM equals a float GEMM on dequantized codes within DEQUANT_GEMM_REL_TOL", () => {
    fc.assert(
      fc.property(gemmCase, ({ a, b, p, rng }) => {
        const sA = Math.fround(rng.uniformIn(1e-3, 1e-1));
        const sW = Float32Array.from({ length: p.n }, () => rng.uniformIn(1e-4, 1e-2));
        const got = dequantizeAcc(qgemmFast(a, b, null, p), { channels: p.n, inner: 1 }, sA, sW);
        for (let i = 0; i < p.m; i++) {
          for (let j = 0; j < p.n; j++) {
            const zB = p.bZeroPoint.length === 1 ? p.bZeroPoint[0] : p.bZeroPoint[j];
            let ref = 0;
            let absSum = 0;
            for (let t = 0; t < p.k; t++) {
              const av = Math.fround(sA * (a[i * p.k + t] - p.aZeroPoint)); // float32 dequantized codes
              const bv = Math.fround(sW[j] * ((p.transposeB ? b[j * p.k + t] : b[t * p.n + j]) - zB));
              ref += av * bv;
              absSum += Math.abs(av * bv);
            }
            expect(Math.abs(got[i * p.n + j] - ref)).toBeLessThanOrEqual(DEQUANT_GEMM_REL_TOL * absSum + 1e-30);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("qgemm int32 overflow assertion", () => {
  it("worst-case input at the max K fits int32 (BigInt) and K + 1 throws: 8-bit activations x symmetric weights", () => {
    const k = MAX_K_8BIT_SYMMETRIC_WEIGHTS;
    const p: QGemmParams = { m: 1, n: 1, k, transposeB: true, aZeroPoint: 255, bZeroPoint: Int32Array.of(0) };
    const a = new Uint8Array(k); // a - zA = -255 everywhere
    const w = new Int8Array(k).fill(-128); // w - zW = -128 everywhere
    const want = qgemmOracle(a, w, null, p); // throws if it left int32
    expect(want[0]).toBe(255 * 128 * k);
    expectBitExact(qgemmNaive(a, w, null, p), want, "naive at max K");
    expectBitExact(qgemmFast(a, w, null, p), want, "fast at max K");
    const p1 = { ...p, k: k + 1 };
    expect(() => qgemmNaive(new Uint8Array(k + 1), new Int8Array(k + 1), null, p1)).toThrow(/int32 accumulator may overflow/);
    expect(() => qgemmFast(new Uint8Array(k + 1), new Int8Array(k + 1), null, p1)).toThrow(RangeError);
    expect(() => qgemmNaive(a, w, Int32Array.of(2 ** 10), p)).toThrow(RangeError); // the bias counts too
  });

  it("worst-case input at the max K with arbitrary zero points on both operands", () => {
    const k = MAX_K_8BIT_ANY_ZERO_POINTS;
    const p: QGemmParams = { m: 1, n: 1, k, transposeB: false, aZeroPoint: 127, bZeroPoint: Int32Array.of(0) };
    const a = new Int8Array(k).fill(-128); // -255
    const w = new Uint8Array(k).fill(255); // +255
    const want = qgemmOracle(a, w, null, p);
    expect(want[0]).toBe(-255 * 255 * k);
    expectBitExact(qgemmNaive(a, w, null, p), want, "naive");
    expectBitExact(qgemmFast(a, w, null, p), want, "fast");
    expect(() => qgemmFast(new Int8Array(k + 1), new Uint8Array(k + 1), null, { ...p, k: k + 1 })).toThrow(RangeError);
  });
});

describe("qbmm (batched, per-tensor zero points)", () => {
  it("naive and fast equal the BigInt GEMM per batch entry, transposeB true and false", () => {
    fc.assert(
      fc.property(gemmCase, fc.integer({ min: 1, max: 3 }), ({ p, rng }, batch) => {
        const aSigned = rng.uniform() < 0.5;
        const a = randomCodes(rng, batch * p.m * p.k, aSigned);
        const b = randomCodes(rng, batch * p.n * p.k, !aSigned);
        const bp = { ...p, batch, bZeroPoint: Int32Array.of(aSigned ? rng.int(0, 256) : rng.int(-128, 128)), aZeroPoint: aSigned ? -3 : 17 };
        const want = new Int32Array(batch * p.m * p.n);
        for (let s = 0; s < batch; s++) {
          const aS = a.subarray(s * p.m * p.k, (s + 1) * p.m * p.k);
          const bS = b.subarray(s * p.n * p.k, (s + 1) * p.n * p.k);
          want.set(qgemmOracle(aS, bS, null, bp), s * p.m * p.n);
        }
        expectBitExact(qbmmNaive(a, b, bp), want, "qbmmNaive");
        expectBitExact(qbmmFast(a, b, bp), want, "qbmmFast");
      }),
      { numRuns: 200 },
    );
  });
});

describe("qgemm shape errors", () => {
  it("names the op and the expected shape", () => {
    const p: QGemmParams = { m: 2, n: 3, k: 4, transposeB: true, aZeroPoint: 0, bZeroPoint: Int32Array.of(0) };
    expect(() => qgemmNaive(new Int8Array(7), new Int8Array(12), null, p)).toThrow(ShapeError);
    expect(() => qgemmFast(new Int8Array(8), new Int8Array(12), new Int32Array(2), p)).toThrow(/qgemmFast: bias must be \[N=3\]/);
    expect(() => qgemmNaive(new Int8Array(8), new Int8Array(12), null, { ...p, bZeroPoint: new Int32Array(2) })).toThrow(/bZeroPoint/);
  });
});
