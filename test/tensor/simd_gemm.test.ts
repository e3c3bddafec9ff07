// The WebAssembly SIMD128 GEMM and conv2d against the naive reference loops (style.md C5, C8a):
// gemmSimd vs gemmNaive on random sizes / strides / offsets / accumulate, exactly on small-integer inputs,
// across every cache-block boundary; conv2dSimd vs conv2dNaive on random configurations.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conv2dNaive } from "../../src/tensor/kernels/cpu/conv.js";
import { type MatView, gemmNaive } from "../../src/tensor/kernels/cpu/gemm.js";
import { conv2dSimd, conv2dSimdInto } from "../../src/tensor/kernels/simd/conv.js";
import { directConvApplies } from "../../src/tensor/kernels/simd/conv_direct.js";
import { gemmSimd, reserveScratch } from "../../src/tensor/kernels/simd/gemm.js";
import { simdBackend } from "../../src/tensor/backends.js";
import { Rng, Tensor, conv2d, matmul, referenceBackend, withBackend } from "../../src/tensor/index.js";
import { simdSupported } from "../../src/wasm/features.js";
import { type Tolerance, expectClose } from "../helpers/close.js";
import { buildConvCase, convCaseArb, directConvCaseArb, randomData } from "../helpers/conv_cases.js";
import { gemmViews } from "../helpers/gemm_cases.js";


/** Integers in [-4, 4]: every product and partial sum below is exact in float32, whatever the order. */
function smallIntegers(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(rng.uniformIn(-4, 5));
  return a;
}

// gemmSimd accumulates in float32 (the reference in float64, rounded once). With inputs in [-1, 1] the
// float32 rounding error of a K-term dot product grows about linearly in K here: measured max abs error
// 9e-6 at K=256, 4e-5 at K=768, 1.1e-4 at K=3072 (64x64 outputs), hence atol scaled by K/128 above 128.
function tol(K: number): Tolerance {
  return { atol: 1e-5 * Math.max(1, K / 128), rtol: 1e-4 };
}

function both(M: number, N: number, K: number, av: MatView, bv: MatView, c0: Float32Array, cOff: number, ldc: number, accumulate: boolean): [Float32Array, Float32Array] {
  const c1 = c0.slice();
  const c2 = c0.slice();
  gemmSimd(M, N, K, av, bv, c1, cOff, ldc, accumulate);
  gemmNaive(M, N, K, av, bv, c2, cOff, ldc, accumulate);
  return [c1, c2];
}

describe("gemmSimd vs gemmNaive", () => {
  it("runs on this engine (Node >= 16.4 has SIMD128)", () => {
    expect(simdSupported()).toBe(true);
  });

  it("agrees on random sizes 1..70, strides (transposes), offsets and accumulate", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 70 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (M, N, K, ta, tb, accumulate, seed) => {
          const rng = new Rng(seed);
          const a = randomData(M * K + 3, rng);
          const b = randomData(K * N + 5, rng);
          const [av, bv] = gemmViews(M, N, K, ta, tb, a, b, 3, 5);
          const ldc = N + 2;
          const [c1, c2] = both(M, N, K, av, bv, randomData(M * ldc + 1, rng), 1, ldc, accumulate);
          expectClose(c1, c2, tol(K), `gemm ${M}x${N}x${K} ta=${ta} tb=${tb} acc=${accumulate}`);
        },
      ),
      { numRuns: 200, seed: 17 },
    );
  });

  it("is exact on small-integer inputs (checks indexing independently of rounding)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 600 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (M, N, K, ta, tb, accumulate, seed) => {
          const rng = new Rng(seed);
          const [av, bv] = gemmViews(M, N, K, ta, tb, smallIntegers(M * K, rng), smallIntegers(K * N, rng), 0, 0);
          const [c1, c2] = both(M, N, K, av, bv, smallIntegers(M * N, rng), 0, N, accumulate);
          expect(c1).toEqual(c2);
        },
      ),
      { numRuns: 100, seed: 23 },
    );
  });

  it("crosses the KC / MC / NC / M-chunk block boundaries", () => {
    const rng = new Rng(1);
    // KC = 256, MC = 128, NC = 2048, M chunk = 1024; MR = 4, NR = 8 edges
    for (const [M, N, K, ta, tb] of [
      [130, 9, 513, false, false],
      [5, 2100, 20, false, true],
      [129, 33, 257, true, false],
      [1030, 12, 7, true, true],
      [197, 70, 3072, false, true],
    ] as const) {
      const [av, bv] = gemmViews(M, N, K, ta, tb, randomData(M * K, rng), randomData(K * N, rng), 0, 0);
      const [c1, c2] = both(M, N, K, av, bv, new Float32Array(M * N), 0, N, false);
      expectClose(c1, c2, tol(K), `gemm ${M}x${N}x${K}`);
    }
  });

  it("handles views too sparse to copy (packed from JS), K = 0 and empty shapes", () => {
    const rng = new Rng(2);
    const M = 9;
    const N = 11;
    const K = 13;
    // every 5th element: spans 5x the matrix, so the operands are packed straight from the JS arrays
    const a = randomData(5 * M * K, rng);
    const b = randomData(5 * K * N, rng);
    const av = { data: a, offset: 0, rowStride: 5 * K, colStride: 5 };
    const bv = { data: b, offset: 0, rowStride: 5, colStride: 5 * K };
    const [c1, c2] = both(M, N, K, av, bv, randomData(M * N, rng), 0, N, true);
    expectClose(c1, c2, tol(K), "sparse views");
    const c = randomData(M * N, rng);
    gemmSimd(M, N, 0, av, bv, c, 0, N, false);
    expect(c.every((v) => v === 0)).toBe(true);
    const keep = randomData(4, rng);
    const copy = keep.slice();
    gemmSimd(0, 2, 2, av, bv, keep, 0, 2);
    gemmSimd(2, 0, 2, av, bv, keep, 0, 2);
    expect(keep).toEqual(copy);
  });
});

describe("gemmSimd with an operand already in wasm memory", () => {
  // reserveScratch(M, N, K) hands out memory past the workspace of an M x N x K GEMM; a view there is
  // used in place by that GEMM; reserved for a smaller problem, it lies inside the workspace and is moved.
  for (const [what, reserveN] of [["in place", 0], ["moved out of the workspace", 8]] as const) {
    it(`uses it ${what}, also when the call has to grow the memory`, () => {
      const rng = new Rng(4);
      const M = 12;
      const K = 30;
      let N = 64; // grown until B's copy does not fit in the memory there is after the reservation
      for (let len = reserveScratch(M, N, K, M * K).heap.length; N * K <= len; len = reserveScratch(M, N, K, M * K).heap.length) {
        N = Math.ceil(len / K) + 8;
      }
      const { heap, offset } = reserveScratch(M, reserveN || N, K, M * K);
      const a = randomData(M * K, rng);
      const b = randomData(K * N, rng);
      heap.set(a, offset);
      const c1 = new Float32Array(M * N);
      const c2 = new Float32Array(M * N);
      gemmSimd(M, N, K, { data: heap, offset, rowStride: K, colStride: 1 }, { data: b, offset: 0, rowStride: N, colStride: 1 }, c1, 0, N);
      gemmNaive(M, N, K, { data: a, offset: 0, rowStride: K, colStride: 1 }, { data: b, offset: 0, rowStride: N, colStride: 1 }, c2, 0, N);
      expect(heap.buffer.byteLength).toBe(0); // grown: the old view is detached
      expectClose(c1, c2, tol(K), `resident A, ${what}`);
    });
  }
});

describe("conv2dSimd vs conv2dNaive", () => {
  it("agrees on random configurations (groups, depthwise, stride, padding, dilation, batching)", () => {
    fc.assert(
      fc.property(
        convCaseArb(40, 5, 9, 12),
        (p) => {
          const c = buildConvCase(p);
          fc.pre(c !== null);
          if (!c) return;
          const fast = conv2dSimd(c.inputs, c.attrs);
          const ref = conv2dNaive(c.inputs, c.attrs);
          expect([...fast.shape]).toEqual(c.attrs.outShape);
          expectClose(fast.data, ref.data, tol(c.reduction), "conv2d");
        },
      ),
      { numRuns: 200, seed: 29 },
    );
  });

  it("agrees on configurations of the direct conv path (stride 1-4, C_in = 3, padding, dilation, groups)", () => {
    let direct = 0;
    fc.assert(
      fc.property(directConvCaseArb(5), (p) => {
        const c = buildConvCase(p);
        fc.pre(c !== null);
        if (!c) return;
        if (directConvApplies(c.inputs, c.attrs)) direct++;
        expectClose(conv2dSimd(c.inputs, c.attrs).data, conv2dNaive(c.inputs, c.attrs).data, tol(c.reduction), "direct conv2d");
      }),
      { numRuns: 200, seed: 31 },
    );
    expect(direct).toBeGreaterThan(150); // the generator lands on the direct path (OW % 8 == 0, K/G % 4 == 0)
  });

  it("agrees on ResNet-20 layer shapes (batched small feature maps, 1x1 stride-2 shortcut) and grouped ones", () => {
    const rng = new Rng(3);
    // [n, C, H, K, k, stride, groups, bias]; K/groups % 4 == 0, OW in {7, 8, 14, 16, ...} and C/groups*k*k <= 576
    // take the direct conv (conv_direct.ts), the rest im2col + GEMM (into wasm memory when P % 8 == 0 and
    // K/groups % 4 == 0); 128 channels x 3x3 (Kc 1152) is im2col
    for (const [n, C, H, K, k, s, G, hasBias] of [
      [3, 3, 32, 16, 3, 1, 1, true],
      [4, 3, 32, 16, 3, 2, 1, false],
      [2, 3, 32, 8, 7, 2, 1, true],
      [2, 16, 32, 16, 3, 1, 1, false],
      [5, 16, 32, 32, 3, 2, 1, true],
      [20, 32, 16, 32, 3, 1, 1, false],
      [20, 32, 16, 64, 1, 2, 1, true],
      [33, 64, 8, 64, 3, 1, 1, false],
      [7, 8, 8, 16, 3, 1, 2, true],
      [9, 16, 8, 16, 3, 2, 1, true],
      [4, 8, 14, 8, 3, 1, 1, true],
      [3, 16, 13, 16, 1, 2, 1, false],
      [2, 128, 8, 8, 3, 1, 1, true],
      [6, 8, 12, 12, 3, 1, 1, false],
      [3, 6, 5, 6, 3, 1, 3, true],
    ] as const) {
      const p = Math.floor(k / 2);
      const OH = Math.floor((H + 2 * p - k) / s) + 1;
      const x = new Tensor([n, C, H, H], randomData(n * C * H * H, rng));
      const w = new Tensor([K, C / G, k, k], randomData((K * C * k * k) / G, rng));
      const bias = hasBias ? new Tensor([K], randomData(K, rng)) : null;
      const attrs = { stride: [s, s] as const, padding: [p, p] as const, dilation: [1, 1] as const, groups: G, outShape: [n, K, OH, OH] };
      expectClose(conv2dSimd({ x, w, bias }, attrs).data, conv2dNaive({ x, w, bias }, attrs).data, tol((C / G) * k * k), `conv ${n}x${C}x${H} -> ${K}`);
    }
  });
});

describe("conv2dSimdInto", () => {
  it("overwrites a dirty output buffer with conv2dSimd's values (direct, im2col and depthwise paths)", () => {
    const rng = new Rng(8);
    for (const [C, H, K, s, G] of [
      [3, 16, 8, 2, 1],
      [6, 5, 6, 1, 3],
      [4, 6, 4, 1, 4],
    ] as const) {
      const x = new Tensor([2, C, H, H], randomData(2 * C * H * H, rng));
      const w = new Tensor([K, C / G, 3, 3], randomData((K * C * 9) / G, rng));
      const bias = new Tensor([K], randomData(K, rng));
      const OH = Math.floor((H + 2 - 3) / s) + 1;
      const attrs = { stride: [s, s] as const, padding: [1, 1] as const, dilation: [1, 1] as const, groups: G, outShape: [2, K, OH, OH] };
      const o = new Float32Array(2 * K * OH * OH).fill(NaN);
      conv2dSimdInto({ x, w, bias }, attrs, o);
      expectClose(o, conv2dNaive({ x, w, bias }, attrs).data, tol((C / G) * 9), `into ${C}x${H} -> ${K} /${s} groups ${G}`);
    }
  });
});

describe("the simd backend through the op layer", () => {
  it("is listed first, so `auto` picks it", () => {
    expect(simdBackend?.name).toBe("simd");
  });

  it("runs conv2d and batched, transposed matmul like the reference backend", () => {
    if (!simdBackend) throw new Error("simdBackend is null although SIMD128 is supported");
    const simd = simdBackend;
    const rng = new Rng(5);
    const x = new Tensor([6, 8, 10, 10], randomData(6 * 8 * 100, rng));
    const w = new Tensor([12, 4, 3, 3], randomData(12 * 4 * 9, rng));
    const bias = new Tensor([12], randomData(12, rng));
    const opts = { stride: 2, padding: 1, dilation: 1, groups: 2 };
    const got = withBackend(simd, () => conv2d(x, w, bias, opts));
    const want = withBackend(referenceBackend, () => conv2d(x, w, bias, opts));
    expectClose(got.data, want.data, tol(36), "conv2d via backend");
    const a = new Tensor([3, 17, 40], randomData(3 * 17 * 40, rng));
    const b = new Tensor([23, 40], randomData(23 * 40, rng));
    const mm = (): Tensor => matmul(a, b, { transposeB: true });
    expectClose(withBackend(simd, mm).data, withBackend(referenceBackend, mm).data, tol(40), "matmul via backend");
  });
});
