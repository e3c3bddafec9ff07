// Oracles: (1) exact rational arithmetic on the float32 bits (BigInt): code = clamp(roundHalfToEven(x / s) + z),
// real = float32(s * (code - z)), NaN -> +0; (2) the reference loop fakeQuantizeNaive and dequantize(quantize(x)).
// The per-tensor fast paths (scalar kernel, SIMD128 kernel, fakeQuantize's dispatch) must match them bit for bit
// (Uint32 views, so -0 vs +0 and NaN payloads count) on every width 2..8, signed / narrow / unsigned, arrays with
// NaN, +-0, +-Infinity, subnormals, exact ties (k + 1/2) * s and their float neighbours, values far outside the range,
// and odd lengths (SIMD tails, chunk boundaries).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fakeQuantizeScalar } from "../../src/quant/kernels/cpu/fake_quantize.js";
import { fakeQuantizeSimd } from "../../src/quant/kernels/simd/fake_quantize.js";
import {
  FAKE_QUANT_SIMD_MIN,
  MIN_SCALE,
  channelLayout,
  dequantize,
  fakeQuantize,
  fakeQuantizeNaive,
  quantize,
  qRange,
  type QParams,
} from "../../src/quant/qtensor.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { simdSupported } from "../../src/wasm/features.js";

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** A finite float32 as sign * m * 2^e with integer m (BigInt), from its bits. */
function decompose(x: number): { neg: boolean; m: bigint; e: number } {
  F32[0] = x;
  const bits = U32[0];
  const exp = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  return { neg: bits >>> 31 === 1, m: BigInt(exp === 0 ? frac : frac | 0x800000), e: (exp === 0 ? 1 : exp) - 150 };
}

/** roundHalfToEven(x / s) exactly, saturated to +-2^20 (beyond every code range), for float32 x and s > 0. */
function exactRoundedQuotient(x: number, s: number): number {
  if (x === Infinity) return 2 ** 20;
  if (x === -Infinity) return -(2 ** 20);
  const a = decompose(x);
  const b = decompose(s);
  // |x| / s = num / den
  let num = a.m;
  let den = b.m;
  if (a.e >= b.e) num <<= BigInt(a.e - b.e);
  else den <<= BigInt(b.e - a.e);
  let q = num / den;
  const twiceRem = 2n * (num - q * den);
  if (twiceRem > den || (twiceRem === den && q % 2n === 1n)) q += 1n;
  const cap = 2n ** 20n;
  const mag = Number(q > cap ? cap : q);
  return a.neg ? -mag : mag;
}

/** Oracle (1): the exact definition, one element. */
function exactFakeQuant(x: number, s: number, z: number, qmin: number, qmax: number): number {
  if (Number.isNaN(x)) return 0;
  const q = Math.min(Math.max(exactRoundedQuotient(x, s) + z, qmin), qmax);
  return Math.fround(s * (q - z)) + 0; // s * (q - z) is exact in double: 24-bit s times a 9-bit integer; never -0
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function nextFloat32(x: number, dir: 1 | -1): number {
  F32[0] = x;
  if (x === 0) U32[0] = dir > 0 ? 1 : 0x80000001;
  else U32[0] += (x > 0) === dir > 0 ? 1 : -1;
  return F32[0];
}

interface Case {
  x: Float32Array;
  p: QParams;
}

const formatArb = fc
  .record({ bits: fc.integer({ min: 2, max: 8 }), signed: fc.boolean(), narrow: fc.boolean() })
  .map((f) => ({ ...f, narrow: f.signed && f.narrow }));

/** Scales: any float32 in [MIN_SCALE, 1e4], or m * 2^e with a short m, so that many (k + 1/2) * s are float32 ties. */
const scaleArb = fc.oneof(
  fc.float({ min: Math.fround(MIN_SCALE), max: 1e4, noNaN: true }),
  fc.tuple(fc.integer({ min: 1, max: 4095 }), fc.integer({ min: -30, max: 4 })).map(([m, e]) => m * 2 ** e),
);

const caseArb = (maxLength: number): fc.Arbitrary<Case> =>
  fc
    .tuple(formatArb, scaleArb)
    .chain(([f, s]) => {
      const { qmin, qmax } = qRange(f.bits, f.signed, { narrow: f.narrow });
      return fc.tuple(fc.constant(f), fc.constant(s), fc.integer({ min: qmin, max: qmax }));
    })
    .chain(([f, s, z]) => {
      const { qmin, qmax } = qRange(f.bits, f.signed, { narrow: f.narrow });
      const k = fc.integer({ min: qmin - z - 3, max: qmax - z + 3 });
      const tie = k.map((i) => Math.fround((i + 0.5) * s));
      const value = fc.oneof(
        fc.float(), // any float32: NaN, +-0, +-Infinity, subnormals, +-3.4e38
        fc.float({ min: Math.fround(-(2 ** 10) * s), max: Math.fround(2 ** 10 * s), noNaN: true }),
        tie,
        fc.tuple(tie, fc.constantFrom(1 as const, -1 as const)).map(([t, d]) => nextFloat32(t, d)),
        k.map((i) => Math.fround(i * s)),
        fc.constantFrom(NaN, 0, -0, Infinity, -Infinity, Math.fround(-0.3 * s), Math.fround(0.3 * s), 3.4e38, -3.4e38, 1e-45, -1e-45),
      );
      const params: QParams = { ...f, scale: Float32Array.of(s), zeroPoint: Int32Array.of(z), axis: null };
      return fc.array(value, { maxLength }).map((xs): Case => ({ x: Float32Array.from(xs), p: params }));
    });

function argsOf(c: Case): [number, number, number, number] {
  const { qmin, qmax } = qRange(c.p.bits, c.p.signed, { narrow: c.p.narrow });
  return [c.p.scale[0], c.p.zeroPoint[0], qmin, qmax];
}

function exactOf(c: Case): Float32Array {
  const [s, z, qmin, qmax] = argsOf(c);
  return Float32Array.from(c.x, (v) => exactFakeQuant(v, s, z, qmin, qmax));
}

function naiveOf(c: Case): Float32Array {
  return fakeQuantizeNaive(c.x, c.p, channelLayout("test", [c.x.length], null));
}

describe("fakeQuantizeNaive (the reference)", () => {
  it("equals the exact rational definition and dequantize(quantize(x)), bit for bit", () => {
    fc.assert(
      fc.property(caseArb(40), (c) => {
        const ref = naiveOf(c);
        expect(bits(ref)).toEqual(bits(exactOf(c)));
        expect(bits(ref)).toEqual(bits(dequantize(quantize(c.x, c.p)).data));
      }),
      { numRuns: 250 },
    );
  });
});

describe("fakeQuantizeScalar", () => {
  it("equals the reference bit for bit", () => {
    fc.assert(
      fc.property(caseArb(70), (c) => {
        expect(bits(fakeQuantizeScalar(c.x, ...argsOf(c)))).toEqual(bits(naiveOf(c)));
      }),
      { numRuns: 500 },
    );
  });
});

describe.skipIf(!simdSupported())("fakeQuantizeSimd (skipped: this engine has no WebAssembly SIMD128)", () => {
  it("equals the reference bit for bit, any length (tails of 1..3 lanes)", () => {
    fc.assert(
      fc.property(caseArb(70), (c) => {
        expect(bits(fakeQuantizeSimd(c.x, ...argsOf(c)))).toEqual(bits(naiveOf(c)));
      }),
      { numRuns: 500 },
    );
  });

  it("golden edge values: -0 and small negatives give +0, NaN gives +0, infinities saturate, ties go to even", () => {
    const s = 0.25;
    const z = 3;
    const x = Float32Array.of(-0.3 * s, -0, 0, NaN, Infinity, -Infinity, 0.5 * s, 1.5 * s, 2.5 * s, -0.5 * s, -1.5 * s, -2.5 * s, 1e30, -1e30);
    // unsigned 4-bit: codes [0, 15], real = 0.25 * (q - 3) in [-0.75, 3]
    const want = Float32Array.of(0, 0, 0, 0, 3, -0.75, 0, 0.5, 0.5, 0, -0.5, -0.5, 3, -0.75);
    for (const got of [fakeQuantizeSimd(x, s, z, 0, 15), fakeQuantizeScalar(x, s, z, 0, 15)]) expect(bits(got)).toEqual(bits(want));
  });

  it("streams arrays longer than one chunk (16384 floats) without seams", () => {
    const s = Math.fround(0.0173);
    const n = 2 * 16384 + 7;
    const x = Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? NaN : Math.fround(Math.sin(i) * 3)));
    const c: Case = { x, p: { bits: 8, signed: true, narrow: false, scale: Float32Array.of(s), zeroPoint: Int32Array.of(-5), axis: null } };
    expect(bits(fakeQuantizeSimd(x, ...argsOf(c)))).toEqual(bits(naiveOf(c)));
  });
});

describe("fakeQuantize dispatch", () => {
  it(`per-tensor params below and above FAKE_QUANT_SIMD_MIN (${FAKE_QUANT_SIMD_MIN}) give the reference's bits, Tensor or array`, () => {
    fc.assert(
      fc.property(caseArb(3 * FAKE_QUANT_SIMD_MIN), (c) => {
        const ref = bits(naiveOf(c));
        expect(bits(fakeQuantize(c.x, c.p))).toEqual(ref);
        expect(bits(fakeQuantize(new Tensor([c.x.length], c.x), c.p).data)).toEqual(ref);
      }),
      { numRuns: 300 },
    );
  });

  it("per-channel params still take the reference loop", () => {
    const x = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.fround((i - 13) * 0.37));
    const p: QParams = { bits: 4, signed: true, narrow: false, scale: Float32Array.of(0.5, 0.25, 1), zeroPoint: Int32Array.of(0, 2, -1), axis: 1 };
    expect(bits(fakeQuantize(x, p, [2, 3, 5]))).toEqual(bits(dequantize(quantize(x, p, [2, 3, 5])).data));
  });
});
