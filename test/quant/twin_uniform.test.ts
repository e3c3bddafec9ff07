// Oracles: the twin-uniform definition (which range, which step, the clamp) as per-value error bounds; exhaustive
// recomputation of the search objective; and a uniform k-bit quantizer as the baseline twin-uniform must beat on
// post-softmax attention (the paper's motivation).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { outputLoss } from "../../src/quant/calibrate.js";
import { chooseQParams, fakeQuantize } from "../../src/quant/qtensor.js";
import { SOFTMAX_SPLIT_EXPONENTS, TwinUniformQuantizer } from "../../src/quant/twin_uniform.js";
import { Rng } from "../../src/tensor/rng.js";

/** Inside a range's codes the error is at most half a step; past its last code the value clamps (error <= 1 step). */
const MAX_TWIN_ERROR_IN_STEPS = 0.5;

/** Row-wise softmax of [rows, cols] logits. */
function softmaxRows(logits: Float32Array, rows: number, cols: number): Float32Array {
  const p = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mx = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < cols; c++) mx = Math.max(mx, logits[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(logits[r * cols + c] - mx);
    for (let c = 0; c < cols; c++) p[r * cols + c] = Math.exp(logits[r * cols + c] - mx) / s;
  }
  return p;
}

/** Float reference matmul [m, k] x [k, n]. */
function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
      y[i * n + j] = s;
    }
  return y;
}

/** GELU, tanh form. */
const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

describe("TwinUniformQuantizer (softmax)", () => {
  it("R1 = [0, 2^(k-1) delta1) in steps of delta1, the rest in steps of 1/2^(k-1); the top code bit marks R2", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 12 }), fc.integer(), (bits, m, seed) => {
        const q = TwinUniformQuantizer.softmax(bits, m);
        const L = 2 ** (bits - 1);
        expect(q.delta2).toBe(1 / L);
        expect(q.delta1).toBe(1 / L / 2 ** m);
        const rng = new Rng(seed);
        const x = Float32Array.from({ length: 200 }, (_, i) => (i % 2 ? rng.uniform() : rng.uniform() ** 6));
        const codes = q.quantize(x);
        const deq = q.dequantize(codes);
        expect(Array.from(q.fakeQuantize(x))).toEqual(Array.from(deq));
        for (let i = 0; i < x.length; i++) {
          expect(codes[i]).toBeLessThan(2 ** bits);
          const inR2 = x[i] >= L * q.delta1;
          expect((codes[i] & L) !== 0).toBe(inR2);
          const step = inR2 ? q.delta2 : q.delta1;
          const bound = x[i] <= (L - 1) * step ? MAX_TWIN_ERROR_IN_STEPS * step : step;
          expect(Math.abs(x[i] - deq[i])).toBeLessThanOrEqual(bound * (1 + 1e-6));
        }
      }),
      { numRuns: 100 },
    );
  });

  it("golden codes", () => {
    const q = TwinUniformQuantizer.softmax(4, 1); // delta2 = 1/8, delta1 = 1/16, R1 = [0, 0.5)
    expect(Array.from(q.quantize(Float32Array.of(0.01, 0.1, 0.49, 0.5, 0.9, 1)))).toEqual([0, 2, 7, 8 | 4, 8 | 7, 8 | 7]);
    expect(() => new TwinUniformQuantizer("softmax", 8, 0.01, 0)).toThrow(RangeError);
    expect(() => TwinUniformQuantizer.softmax(9, 0)).toThrow(RangeError);
  });

  it("search returns the best split on the layer output and beats uniform k-bit on attention", () => {
    const rng = new Rng(4);
    const [t, d, bits] = [48, 16, 8];
    const logits = Float32Array.from({ length: t * t }, () => 2 * rng.normal());
    const probs = softmaxRows(logits, t, t);
    const v = Float32Array.from({ length: t * d }, () => rng.normal());
    const layer = (p: Float32Array) => matmul(p, v, t, t, d);
    const r = TwinUniformQuantizer.softmax(bits, 0).search(probs, layer);
    const ref = layer(probs);
    expect(r.loss).toBe(outputLoss("mse", ref, layer(r.quantizer.fakeQuantize(probs))));
    for (const m of SOFTMAX_SPLIT_EXPONENTS) {
      expect(r.loss).toBeLessThanOrEqual(outputLoss("mse", ref, layer(TwinUniformQuantizer.softmax(bits, m).fakeQuantize(probs))));
    }
    expect(r.quantizer.m).toBeGreaterThan(0);
    const uniform = outputLoss("mse", ref, layer(fakeQuantize(probs, chooseQParams(0, 1, bits, false, false))));
    expect(r.loss).toBeLessThan(uniform);
  });
});

describe("TwinUniformQuantizer (gelu)", () => {
  it("negatives in steps of delta1 = delta2 / 2^m, positives in steps of delta2, clamped at 2^(k-1) - 1 steps", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.integer(), (bits, m, delta2, seed) => {
        const q = TwinUniformQuantizer.gelu(bits, delta2, m);
        const L = 2 ** (bits - 1);
        const rng = new Rng(seed);
        const x = Float32Array.from({ length: 200 }, () => gelu(4 * rng.normal()));
        const codes = q.quantize(x);
        const deq = q.dequantize(codes);
        for (let i = 0; i < x.length; i++) {
          const negative = x[i] < 0;
          expect((codes[i] & L) === 0).toBe(negative);
          const step = negative ? q.delta1 : q.delta2;
          const end = (L - 1) * step;
          if (Math.abs(x[i]) <= end) {
            expect(Math.abs(x[i] - deq[i])).toBeLessThanOrEqual(MAX_TWIN_ERROR_IN_STEPS * step * (1 + 1e-6));
          } else {
            expect(deq[i]).toBe(Math.fround(negative ? -end : end));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("search: loss reproducible from the returned quantizer and no worse than its start", () => {
    const rng = new Rng(9);
    const [rows, k, n, bits] = [16, 24, 8, 6];
    const x = Float32Array.from({ length: rows * k }, () => gelu(2 * rng.normal()));
    const w = Float32Array.from({ length: k * n }, () => rng.normal());
    const layer = (h: Float32Array) => matmul(h, w, rows, k, n);
    const r = TwinUniformQuantizer.gelu(bits, 1, 0).search(x, layer, { metric: "cosine" });
    const ref = layer(x);
    expect(r.loss).toBe(outputLoss("cosine", ref, layer(r.quantizer.fakeQuantize(x))));
    // the search starts at delta2 = max(x) / (L - 1) with the finest m whose negative range reaches min(x)
    const L = 2 ** (bits - 1);
    const delta2 = Math.max(...x) / (L - 1);
    const m0 = Math.max(...[...Array(13).keys()].filter((m) => (delta2 / 2 ** m) * (L - 1) >= -Math.min(...x)));
    const start = TwinUniformQuantizer.gelu(bits, delta2, m0);
    expect(r.loss).toBeLessThanOrEqual(outputLoss("cosine", ref, layer(start.fakeQuantize(x))));
    expect(r.quantizer.delta1).toBeLessThanOrEqual(r.quantizer.delta2);
  });
});

describe("TwinUniformQuantizer.fakeQuantize (one fused loop)", () => {
  it("equals dequantize(quantize(x)) bit for bit: ties, negatives, NaN, +-0, +-Infinity, both kinds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: -3, max: 10 }), fc.double({ min: 0.001, max: 10, noNaN: true }), fc.integer(), (bits, m, d2, seed) => {
        const rng = new Rng(seed);
        for (const q of [TwinUniformQuantizer.softmax(bits, Math.max(0, m)), TwinUniformQuantizer.gelu(bits, d2, m)]) {
          const ties = (delta: number, k: number): number => Math.fround((k + 0.5) * delta);
          const x = Float32Array.from({ length: 300 }, (_, i) => {
            switch (i % 6) {
              case 0:
                return ties(q.delta1, rng.int(-4, 2 ** bits));
              case 1:
                return ties(q.delta2, rng.int(-4, 2 ** bits));
              case 2:
                return -rng.uniform() * q.delta1 * 0.6; // rounds to -0 before the clamp
              default:
                return (rng.uniform() - 0.3) * 2 ** bits * q.delta2;
            }
          });
          x.set([Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], 0);
          const want = new Uint32Array(q.dequantize(q.quantize(x)).buffer);
          const got = new Uint32Array(q.fakeQuantize(x).buffer);
          for (let i = 0; i < x.length; i++) if (got[i] !== want[i]) throw new Error(`${q.kind} k=${bits} m=${q.m}: x=${x[i]} got bits ${got[i]}, want ${want[i]}`);
        }
      }),
      { numRuns: 80, seed: 3 },
    );
  });
});
