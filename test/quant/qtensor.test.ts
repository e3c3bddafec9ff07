// Oracle: the affine definition real = scale * (q - zeroPoint) and its error bound MAX_ROUNDTRIP_ERROR_IN_SCALES,
// checked for every width 2..8, signed (full and narrow) and unsigned, symmetric and not, per tensor and per channel.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_ROUNDTRIP_ERROR_IN_SCALES,
  chooseQParams,
  chooseQParamsPerChannel,
  createQTensor,
  dequantize,
  fakeQuantize,
  qRange,
  quantize,
  rangeOf,
  type QParams,
} from "../../src/quant/qtensor.js";
import { Rng } from "../../src/tensor/rng.js";
import { ShapeError } from "../../src/tensor/shape.js";
import { Tensor } from "../../src/tensor/tensor.js";

/** float32 storage of the dequantized value adds at most half an ulp: |v| * 2^-24. */
const F32_HALF_ULP = 2 ** -24;

const format = fc
  .record({ bits: fc.integer({ min: 2, max: 8 }), signed: fc.boolean(), narrow: fc.boolean(), symmetric: fc.boolean() })
  .map((f) => ({ ...f, narrow: f.signed && f.narrow }));
const interval = fc
  .tuple(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true }))
  .map(([a, b]): readonly [number, number] => (a <= b ? [a, b] : [b, a]));

const shapeAndAxis = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
  .chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 })));

/** Samples of a channel: mostly inside [lo, hi], some beyond each end, plus the ends and 0. */
function samples(rng: Rng, lo: number, hi: number, n: number): number[] {
  const span = hi - lo;
  const xs = [lo, hi, 0];
  for (let i = 0; i < n; i++) xs.push(Math.fround(rng.uniformIn(lo - 0.25 * span, hi + 0.25 * span)));
  return xs;
}

/** Checks one value: inside the representable range within the bound, outside it saturated to the end code. */
function checkValue(x: number, q: number, deq: number, scale: number, zeroPoint: number, qmin: number, qmax: number): void {
  const lo = scale * (qmin - zeroPoint);
  const hi = scale * (qmax - zeroPoint);
  if (x > hi) {
    expect(q).toBe(qmax);
  } else if (x < lo) {
    expect(q).toBe(qmin);
  } else {
    expect(Math.abs(x - deq)).toBeLessThanOrEqual(scale * MAX_ROUNDTRIP_ERROR_IN_SCALES * (1 + 1e-12) + Math.abs(deq) * F32_HALF_ULP);
  }
  expect(q).toBeGreaterThanOrEqual(qmin);
  expect(q).toBeLessThanOrEqual(qmax);
}

describe("qRange", () => {
  it("golden ranges for every width", () => {
    for (let b = 2; b <= 8; b++) {
      expect(qRange(b, true)).toEqual({ qmin: -(2 ** (b - 1)), qmax: 2 ** (b - 1) - 1 });
      expect(qRange(b, true, { narrow: true })).toEqual({ qmin: -(2 ** (b - 1) - 1), qmax: 2 ** (b - 1) - 1 });
      expect(qRange(b, false)).toEqual({ qmin: 0, qmax: 2 ** b - 1 });
    }
    expect(() => qRange(1, true)).toThrow(RangeError);
    expect(() => qRange(9, false)).toThrow(RangeError);
    expect(() => qRange(8, false, { narrow: true })).toThrow(RangeError);
  });
});

describe("chooseQParams", () => {
  it("golden parameters", () => {
    const p = chooseQParams(-1, 3, 8, false, false);
    expect(p.scale[0]).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint[0]).toBe(64);
    const w = chooseQParams(-0.5, 1, 8, true, true, { narrow: true });
    expect([w.scale[0], w.zeroPoint[0]]).toEqual([Math.fround(1 / 127), 0]);
    const u = chooseQParams(2, 5, 8, false, false); // widened to [0, 5]
    expect([u.scale[0], u.zeroPoint[0]]).toEqual([Math.fround(5 / 255), 0]);
    const s = chooseQParams(-1, 1, 4, false, true); // unsigned symmetric: zero point 2^(b-1)
    expect([s.scale[0], s.zeroPoint[0]]).toEqual([Math.fround(1 / 7), 8]);
    expect(() => chooseQParams(1, 0, 8, true, false)).toThrow(RangeError);
    expect(() => chooseQParams(Number.NaN, 0, 8, true, false)).toThrow(RangeError);
  });

  it("real 0.0 is exactly representable: an integer zero point inside the range, dequantized to 0", () => {
    fc.assert(
      fc.property(format, interval, (f, [min, max]) => {
        const p = chooseQParams(min, max, f.bits, f.signed, f.symmetric, { narrow: f.narrow });
        const { qmin, qmax } = rangeOf(p);
        expect(Number.isInteger(p.zeroPoint[0])).toBe(true);
        expect(p.zeroPoint[0]).toBeGreaterThanOrEqual(qmin);
        expect(p.zeroPoint[0]).toBeLessThanOrEqual(qmax);
        const q = quantize(Float32Array.of(0, -0), p);
        expect(Array.from(q.data)).toEqual([p.zeroPoint[0], p.zeroPoint[0]]);
        expect(Array.from(dequantize(q).data)).toEqual([0, 0]);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("quantize / dequantize", () => {
  it("ties round half to even (PyTorch fake-quant), not Math.round", () => {
    const p: QParams = { bits: 8, signed: true, narrow: false, scale: Float32Array.of(1), zeroPoint: Int32Array.of(0), axis: null };
    const q = quantize(Float32Array.of(0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1000, -1000, Number.NaN), p);
    expect(Array.from(q.data)).toEqual([0, 2, 2, 0, -2, -2, 127, -128, 0]);
    expect(q.data).toBeInstanceOf(Int8Array);
    expect(quantize(Float32Array.of(1), chooseQParams(0, 1, 8, false, false)).data).toBeInstanceOf(Uint8Array);
  });

  it("per tensor: |x - deq(q(x))| <= scale/2 inside the range, saturation outside (all formats)", () => {
    fc.assert(
      fc.property(format, interval, fc.integer(), (f, [min, max], seed) => {
        const p = chooseQParams(min, max, f.bits, f.signed, f.symmetric, { narrow: f.narrow });
        const { qmin, qmax } = rangeOf(p);
        const s = p.scale[0];
        const z = p.zeroPoint[0];
        const x = Float32Array.from(samples(new Rng(seed), s * (qmin - z), s * (qmax - z), 40));
        const q = quantize(x, p);
        const deq = dequantize(q).data;
        for (let i = 0; i < x.length; i++) checkValue(x[i], q.data[i], deq[i], s, z, qmin, qmax);
      }),
      { numRuns: 1000 },
    );
  });

  it("per channel: the same bound with each channel's scale and zero point, any axis", () => {
    fc.assert(
      fc.property(format, shapeAndAxis, fc.integer(), (f, [shape, axis], seed) => {
        const rng = new Rng(seed);
        const channels = shape[axis];
        const mins = Array.from({ length: channels }, () => rng.uniformIn(-50, 10));
        const maxs = mins.map((m) => m + rng.uniformIn(0, 60));
        const p = chooseQParamsPerChannel(mins, maxs, axis, f.bits, f.signed, f.symmetric, { narrow: f.narrow });
        const { qmin, qmax } = rangeOf(p);
        const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const size = shape.reduce((a, b) => a * b, 1);
        const x = new Float32Array(size);
        for (let i = 0; i < size; i++) {
          const c = Math.floor(i / inner) % channels;
          const lo = p.scale[c] * (qmin - p.zeroPoint[c]);
          const hi = p.scale[c] * (qmax - p.zeroPoint[c]);
          x[i] = Math.fround(rng.uniformIn(lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo)));
        }
        const q = quantize(new Tensor(shape, x), p);
        const deq = dequantize(q).data;
        for (let i = 0; i < size; i++) {
          const c = Math.floor(i / inner) % channels;
          checkValue(x[i], q.data[i], deq[i], p.scale[c], p.zeroPoint[c], qmin, qmax);
        }
        const zeros = dequantize(quantize(new Tensor(shape, new Float32Array(size)), p)).data;
        expect(zeros.every((v) => v === 0)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("per channel with equal scales and zero points equals per tensor", () => {
    fc.assert(
      fc.property(format, interval, shapeAndAxis, fc.integer(), (f, [min, max], [shape, axis], seed) => {
        const pt = chooseQParams(min, max, f.bits, f.signed, f.symmetric, { narrow: f.narrow });
        const channels = shape[axis];
        const pc: QParams = {
          ...pt,
          axis,
          scale: new Float32Array(channels).fill(pt.scale[0]),
          zeroPoint: new Int32Array(channels).fill(pt.zeroPoint[0]),
        };
        const rng = new Rng(seed);
        const size = shape.reduce((a, b) => a * b, 1);
        const x = new Tensor(shape, Float32Array.from({ length: size }, () => rng.uniformIn(1.5 * min - 1, 1.5 * max + 1)));
        const qt = quantize(x, pt);
        const qc = quantize(x, pc);
        expect(Array.from(qc.data)).toEqual(Array.from(qt.data));
        expect(Array.from(dequantize(qc).data)).toEqual(Array.from(dequantize(qt).data));
      }),
      { numRuns: 300 },
    );
  });

  it("fakeQuantize equals dequantize(quantize(x)) bit for bit, for Tensor and Float32Array inputs", () => {
    fc.assert(
      fc.property(format, interval, fc.integer(), (f, [min, max], seed) => {
        const p = chooseQParams(min, max, f.bits, f.signed, f.symmetric, { narrow: f.narrow });
        const rng = new Rng(seed);
        const x = Float32Array.from({ length: 33 }, () => rng.uniformIn(1.2 * min - 1, 1.2 * max + 1));
        const expected = Array.from(dequantize(quantize(x, p)).data);
        expect(Array.from(fakeQuantize(x, p))).toEqual(expected);
        const t = fakeQuantize(new Tensor([3, 11], x), p);
        expect(t.shape).toEqual([3, 11]);
        expect(Array.from(t.data)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("rejects mismatched parameters and codes with named errors", () => {
    const p = chooseQParamsPerChannel([-1, -1], [1, 1], 1, 8, true, true, { narrow: true });
    expect(() => quantize(new Tensor([2, 3], new Float32Array(6)), p)).toThrow(ShapeError);
    expect(() => quantize(new Float32Array(4), p, [2, 3])).toThrow(ShapeError);
    const bad: QParams = { ...chooseQParams(-1, 1, 8, true, false), zeroPoint: Int32Array.of(300) };
    expect(() => quantize(new Float32Array(1), bad)).toThrow(RangeError);
    const u = chooseQParams(0, 1, 4, false, false);
    expect(() => createQTensor([2], Uint8Array.of(3, 16), u)).toThrow(RangeError); // 16 > 15
    expect(() => createQTensor([2], Int8Array.of(3, 1), u)).toThrow(TypeError);
    expect(Array.from(createQTensor([2], Uint8Array.of(3, 15), u).data)).toEqual([3, 15]);
  });
});
