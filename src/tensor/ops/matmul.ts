// matmul and linear.
import { getBackend } from "../backends.js";
import { ShapeError, broadcastShapes, shapeStr } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { add } from "./elementwise.js";

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * Batched matrix product: a [...batchA, M, K] x b [...batchB, K, N] -> [...broadcast(batchA, batchB), M, N].
 * @example matmul(q, k, { transposeB: true }) // attention scores [B, H, T, T]
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transposeA = opts.transposeA ?? false;
  const transposeB = opts.transposeB ?? false;
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError("matmul", `inputs must have rank >= 2, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const M = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2];
  const Ka = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1];
  const Kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  const N = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  if (Ka !== Kb) {
    throw new ShapeError(
      "matmul",
      `inner dims differ: a ${shapeStr(a.shape)}${transposeA ? "^T" : ""} x b ${shapeStr(b.shape)}${transposeB ? "^T" : ""} (${Ka} vs ${Kb})`,
    );
  }
  const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  return getBackend().run("matmul", { a, b }, { transposeA, transposeB, outShape: [...batch, M, N] });
}

/** y = x W^T + b, x: [..., in], weight: [out, in], bias: [out] (PyTorch nn.Linear). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.rank !== 2 || x.rank < 1 || x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new ShapeError("linear", `x ${shapeStr(x.shape)} does not match weight ${shapeStr(weight.shape)} (expects [..., ${weight.shape[1]}])`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new ShapeError("linear", `bias ${shapeStr(bias.shape)} must be [${weight.shape[0]}]`);
  }
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape([lead.reduce((p, d) => p * d, 1), x.shape[x.rank - 1]]);
  let y = matmul(x2, weight, { transposeB: true });
  if (bias) y = add(y, bias);
  return y.reshape([...lead, weight.shape[0]]);
}
