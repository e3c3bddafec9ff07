// Strided operand views for GEMM property tests: a transposed operand is the same data read with swapped strides.
import type { MatView } from "../../src/tensor/kernels/cpu/gemm.js";

/** A [M, K] and B [K, N] views at offsets aOff / bOff, stored transposed when ta / tb. */
export function gemmViews(M: number, N: number, K: number, ta: boolean, tb: boolean, a: Float32Array, b: Float32Array, aOff: number, bOff: number): [MatView, MatView] {
  const av = ta ? { data: a, offset: aOff, rowStride: 1, colStride: M } : { data: a, offset: aOff, rowStride: K, colStride: 1 };
  const bv = tb ? { data: b, offset: bOff, rowStride: 1, colStride: K } : { data: b, offset: bOff, rowStride: N, colStride: 1 };
  return [av, bv];
}
