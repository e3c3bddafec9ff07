// The fused conv output stage: qepilogueNaive against a BigInt oracle (TFLite MultiplyByQuantizedMultiplier written
// from the C definitions, test/quant/oracle.ts), and the SIMD kernel against qepilogueNaive bit for bit, over random
// layouts (rows whose length is not a multiple of 4 included), multipliers of both signs with left and right
// shifts, every shortcut kind, clamps and output variants.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quantizeMultiplier } from "../../src/quant/fixedpoint.js";
import { type EpilogueSpec, qepilogueNaive } from "../../src/quant/kernels/cpu/qepilogue.js";
import { qepilogueSimd } from "../../src/quant/kernels/simd/qepilogue.js";
import { simdSupported } from "../../src/wasm/features.js";
import { Rng } from "../../src/tensor/rng.js";
import { ShapeError } from "../../src/tensor/shape.js";
import { expectBitExact, mbqmOracle, rdbpOracle } from "./oracle.js";

interface Case {
  spec: EpilogueSpec;
  acc: Int32Array;
  sc: Int32Array | null;
  channels: number;
  inner: number;
}

const caseArb = fc.record({
  outer: fc.integer({ min: 1, max: 3 }),
  channels: fc.integer({ min: 1, max: 6 }),
  inner: fc.integer({ min: 1, max: 13 }),
  maxLog2: fc.integer({ min: -24, max: 8 }), // multipliers in [2^(maxLog2 - 6), 2^maxLog2]
  negative: fc.boolean(),
  shortcut: fc.constantFrom("none", "rescale", "add"),
  values: fc.boolean(),
  codes: fc.constantFrom(null, 0, 3, 12),
  relu: fc.boolean(),
  accShift: fc.integer({ min: 0, max: 15 }),
  seed: fc.integer(),
});

type CaseParams = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** A random case whose intermediates stay in int32: |acc * 2^accShift + bias| * 2^left <= 2^28, every term below 2^28. */
function makeCase(c: CaseParams): Case {
  const rng = new Rng(c.seed);
  const n = c.outer * c.channels * c.inner;
  const mult = (): { multiplier: number; shift: number } => {
    const m = 2 ** rng.uniformIn(c.maxLog2 - 6, c.maxLog2) * (c.negative && rng.uniform() < 0.5 ? -1 : 1);
    const q = quantizeMultiplier(m);
    return q.multiplier === -2147483648 ? { multiplier: -2147483647, shift: q.shift } : q;
  };
  const ms = Array.from({ length: c.channels }, mult);
  const bound = Math.floor(2 ** 28 / 2 ** Math.max(0, c.maxLog2 + 1));
  const intIn = (b: number): number => rng.int(-b, b + 1);
  const sc = mult();
  const spec: EpilogueSpec = {
    channels: {
      bias: Int32Array.from(ms, () => intIn(bound >> 1)),
      multiplier: Int32Array.from(ms, (m) => m.multiplier),
      shift: Int32Array.from(ms, (m) => m.shift),
      post: Int32Array.from(ms, () => intIn(2 ** 20)),
    },
    accShift: c.accShift,
    shortcut: c.shortcut === "rescale" ? { kind: "rescale", ...sc } : { kind: c.shortcut as "none" | "add" },
    lo: c.relu ? 0 : -(2 ** 29),
    hi: c.codes === null ? 2 ** 30 : 2 ** 27,
    values: c.values || c.codes === null,
    codes: c.codes === null ? null : { exponent: c.codes, zeroPoint: rng.int(0, 40), qmin: rng.int(0, 3), qmax: rng.int(200, 256) },
  };
  const acc = Int32Array.from({ length: n }, () => intIn(bound >> (1 + c.accShift)));
  const scv = c.shortcut === "none" ? null : Int32Array.from({ length: n }, () => intIn(c.shortcut === "add" ? 2 ** 27 : bound >> 1));
  return { spec, acc, sc: scv, channels: c.channels, inner: c.inner };
}

/** The output stage from the BigInt oracles, element by element. */
function oracle(k: Case): { values: Int32Array; codes: Uint8Array } {
  const { spec, acc, sc } = k;
  const values = new Int32Array(acc.length);
  const codes = new Uint8Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const c = Math.floor(i / k.inner) % k.channels;
    let v = mbqmOracle(acc[i] * 2 ** spec.accShift + spec.channels.bias[c], spec.channels.multiplier[c], spec.channels.shift[c]) + spec.channels.post[c];
    const s = spec.shortcut;
    if (s.kind === "rescale") v += mbqmOracle((sc as Int32Array)[i], s.multiplier, s.shift);
    if (s.kind === "add") v += (sc as Int32Array)[i];
    v = Math.min(Math.max(v, spec.lo), spec.hi);
    values[i] = v;
    if (spec.codes) codes[i] = Math.min(Math.max(rdbpOracle(v, spec.codes.exponent) + spec.codes.zeroPoint, spec.codes.qmin), spec.codes.qmax);
  }
  return { values, codes };
}

describe("qepilogueNaive", () => {
  it("equals the BigInt MultiplyByQuantizedMultiplier oracle", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const k = makeCase(c);
        const got = qepilogueNaive(k.acc, { channels: k.channels, inner: k.inner }, k.spec, k.sc);
        const want = oracle(k);
        if (got.values) expectBitExact(got.values, want.values, "values");
        if (got.codes) expectBitExact(got.codes, want.codes, "codes");
        expect(got.values === null).toBe(!k.spec.values);
        expect(got.codes === null).toBe(k.spec.codes === null);
      }),
      { numRuns: 300 },
    );
  });

  it("throws a RangeError naming the step when an intermediate leaves int32, and checks shapes", () => {
    const spec: EpilogueSpec = {
      channels: { bias: Int32Array.of(0), multiplier: Int32Array.of(2 ** 30), shift: Int32Array.of(0), post: Int32Array.of(2 ** 29) },
      accShift: 0,
      shortcut: { kind: "add" },
      lo: -(2 ** 31),
      hi: 2 ** 31 - 1,
      values: true,
      codes: null,
    };
    expect(() => qepilogueNaive(Int32Array.of(2 ** 31 - 1), { channels: 1, inner: 1 }, spec, Int32Array.of(2 ** 30))).toThrow(/residual sum/);
    expect(() => qepilogueNaive(Int32Array.of(1, 2), { channels: 1, inner: 1 }, spec, Int32Array.of(1))).toThrow(ShapeError);
    expect(() => qepilogueNaive(Int32Array.of(1, 2), { channels: 2, inner: 1 }, spec, Int32Array.of(1, 2))).toThrow(ShapeError);
  });
});

describe.runIf(simdSupported())("qepilogueSimd", () => {
  it("equals qepilogueNaive bit for bit (every variant, tails, both multiplier signs)", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const k = makeCase(c);
        const layout = { channels: k.channels, inner: k.inner };
        const want = qepilogueNaive(k.acc, layout, k.spec, k.sc);
        const got = qepilogueSimd(k.acc, layout, k.spec, k.sc);
        if (want.values) expectBitExact(got.values as Int32Array, want.values, "values");
        if (want.codes) expectBitExact(got.codes as Uint8Array, want.codes, "codes");
      }),
      { numRuns: 400 },
    );
  });
});
