// Batched matmul: a [...batch, M, K] x b [...batch, K, N] -> [...outBatch, M, N]; batch dims broadcast,
// transposes read through strides. `matmulNaive` (reference) and `matmul` (packed GEMM) share the batching.
// M, N = output rows, cols; K = contracted dim.
import type { KernelSpecs } from "../../backend.js";
import { sizeOf, stridesOf } from "../../shape.js";
import { Tensor } from "../../tensor.js";
import { broadcastStrides } from "./elementwise.js";
import { type Gemm, type MatView, gemmNaive, gemmPacked } from "./gemm.js";

/**
 * Element offset of every batch matrix of a [...aBatch, R, C] and b [...bBatch, R, C] for the broadcast batch
 * shape (0 stride on broadcast dims), batch index in row-major order of `batchShape`.
 */
export function batchOffsets(aShape: readonly number[], bShape: readonly number[], batchShape: readonly number[]): { offA: number[]; offB: number[] } {
  const sa = broadcastStrides(aShape.slice(0, -2), batchShape);
  const sb = broadcastStrides(bShape.slice(0, -2), batchShape);
  const aMat = aShape[aShape.length - 2] * aShape[aShape.length - 1];
  const bMat = bShape[bShape.length - 2] * bShape[bShape.length - 1];
  const outStrides = stridesOf(batchShape);
  const nBatch = sizeOf(batchShape);
  const offA: number[] = [];
  const offB: number[] = [];
  for (let bi = 0; bi < nBatch; bi++) {
    let ia = 0;
    let ib = 0;
    let rem = bi;
    for (let d = 0; d < batchShape.length; d++) {
      const idx = Math.floor(rem / outStrides[d]);
      rem -= idx * outStrides[d];
      ia += idx * sa[d];
      ib += idx * sb[d];
    }
    offA.push(ia * aMat);
    offB.push(ib * bMat);
  }
  return { offA, offB };
}

function batchedMatmul(gemm: Gemm, { a, b }: KernelSpecs["matmul"]["inputs"], attrs: KernelSpecs["matmul"]["attrs"]): Tensor {
  const { transposeA, transposeB, outShape } = attrs;
  const out = new Tensor(outShape);
  const ra = a.rank;
  const rb = b.rank;
  const M = outShape[outShape.length - 2];
  const N = outShape[outShape.length - 1];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const { offA, offB } = batchOffsets(a.shape, b.shape, outShape.slice(0, -2));
  // Per-matrix strides: a stored [M,K] (or [K,M] when transposed), b stored [K,N] (or [N,K]).
  const aCols = a.shape[ra - 1];
  const bCols = b.shape[rb - 1];
  for (let bi = 0; bi < offA.length; bi++) {
    const av: MatView = transposeA
      ? { data: a.data, offset: offA[bi], rowStride: 1, colStride: aCols }
      : { data: a.data, offset: offA[bi], rowStride: aCols, colStride: 1 };
    const bv: MatView = transposeB
      ? { data: b.data, offset: offB[bi], rowStride: 1, colStride: bCols }
      : { data: b.data, offset: offB[bi], rowStride: bCols, colStride: 1 };
    gemm(M, N, K, av, bv, out.data, bi * M * N, N);
  }
  return out;
}

export function matmulNaive(inputs: KernelSpecs["matmul"]["inputs"], attrs: KernelSpecs["matmul"]["attrs"]): Tensor {
  return batchedMatmul(gemmNaive, inputs, attrs);
}

/** matmul on a given GEMM (each backend passes its own). */
export function matmulWithGemm(gemm: Gemm): (inputs: KernelSpecs["matmul"]["inputs"], attrs: KernelSpecs["matmul"]["attrs"]) => Tensor {
  return (inputs, attrs) => batchedMatmul(gemm, inputs, attrs);
}

export const matmul = matmulWithGemm(gemmPacked);
