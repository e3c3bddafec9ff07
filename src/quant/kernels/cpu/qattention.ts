// The two ViT attention matmuls as integer batched GEMMs, both operands per-tensor (one zero point each):
//   scores  S[b,h] = (Q[b,h] - zQ) (K[b,h] - zK)^T      Q, K: [B, H, T, d] -> S: [B, H, T, T] int32 (scale sQ*sK)
//   context O[b,h] = (P[b,h] - zP) (V[b,h] - zV)        P: [B, H, T, T], V: [B, H, T, d] -> O: [B, H, T, d] int32 (scale sP*sV)
// B=batch H=heads T=tokens d=head dim. The 1/sqrt(d) factor and softmax stay outside (fold 1/sqrt(d) into the
// dequantize or requantize scale). Apply requantize/dequantizeAcc from requantize.ts with layout {channels: 1, inner: 1}.
import { ShapeError } from "../../../tensor/shape.js";
import type { QCodes } from "../../qtensor.js";
import { qbmmFast, qbmmNaive } from "./qgemm.js";

export interface AttentionDims {
  readonly batch: number;
  readonly heads: number;
  readonly tokens: number;
  readonly headDim: number;
}

/** "naive" runs the reference loops, "fast" the packed kernel; both give identical int32 results. */
export type QKernelVariant = "naive" | "fast";

function checkDims(op: string, d: AttentionDims): void {
  const v = [d.batch, d.heads, d.tokens, d.headDim];
  if (!v.every((x) => Number.isInteger(x) && x >= 0)) throw new ShapeError(op, `bad attention dims [${v.join(", ")}]`);
}

/**
 * Integer attention scores: [B, H, T, d] x [B, H, T, d]^T -> [B, H, T, T] int32, zero points subtracted.
 * @example qattentionScores(q.data, k.data, {batch: 1, heads: 3, tokens: 65, headDim: 64}, q.zeroPoint[0], k.zeroPoint[0])
 */
export function qattentionScores(
  q: QCodes, // [B, H, T, d]
  k: QCodes, // [B, H, T, d]
  dims: AttentionDims,
  qZeroPoint: number,
  kZeroPoint: number,
  variant: QKernelVariant = "fast",
): Int32Array {
  checkDims("qattentionScores", dims);
  const params = {
    batch: dims.batch * dims.heads,
    m: dims.tokens,
    n: dims.tokens,
    k: dims.headDim,
    transposeB: true,
    aZeroPoint: qZeroPoint,
    bZeroPoint: Int32Array.of(kZeroPoint),
  };
  return variant === "fast" ? qbmmFast(q, k, params) : qbmmNaive(q, k, params);
}

/**
 * Integer attention context: [B, H, T, T] x [B, H, T, d] -> [B, H, T, d] int32, zero points subtracted.
 * @example qattentionContext(p.data, v.data, {batch: 1, heads: 3, tokens: 65, headDim: 64}, p.zeroPoint[0], v.zeroPoint[0])
 */
export function qattentionContext(
  p: QCodes, // [B, H, T, T] post-softmax codes
  v: QCodes, // [B, H, T, d]
  dims: AttentionDims,
  pZeroPoint: number,
  vZeroPoint: number,
  variant: QKernelVariant = "fast",
): Int32Array {
  checkDims("qattentionContext", dims);
  const params = {
    batch: dims.batch * dims.heads,
    m: dims.tokens,
    n: dims.headDim,
    k: dims.tokens,
    transposeB: false,
    aZeroPoint: pZeroPoint,
    bZeroPoint: Int32Array.of(vZeroPoint),
  };
  return variant === "fast" ? qbmmFast(p, v, params) : qbmmNaive(p, v, params);
}
