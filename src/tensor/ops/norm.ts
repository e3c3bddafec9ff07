// LayerNorm and BatchNorm.
import { getBackend } from "../backends.js";
import { ShapeError, shapeStr } from "../shape.js";
import { Tensor } from "../tensor.js";

/** LayerNorm over the last dim. x: [..., D], weight/bias: [D]. @example layerNorm(x, w, b, 1e-6) */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const D = x.shape[x.rank - 1];
  for (const [name, t] of [["weight", weight], ["bias", bias]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== D)) throw new ShapeError("layerNorm", `${name} ${shapeStr(t.shape)} must be [${D}] for x ${shapeStr(x.shape)}`);
  }
  return getBackend().run("layerNorm", { x, weight, bias }, { eps });
}

export interface BatchNormParams {
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  eps: number;
}

/**
 * Per-channel mean and biased variance of x [N, C, ...] over all dims but 1 (what BN training mode normalises
 * with), both [C]; one read of x on the cpu and simd backends (kernels/cpu/moments.ts).
 */
export function batchStats(x: Tensor): { mean: Tensor; variance: Tensor } {
  if (x.rank < 2) throw new ShapeError("batchStats", `x must be [N, C, ...], got ${shapeStr(x.shape)}`);
  const C = x.shape[1];
  const m = getBackend().run("batchMoments", { x }, {}).data;
  return { mean: new Tensor([C], m.subarray(0, C)), variance: new Tensor([C], m.subarray(C, 2 * C)) };
}

/**
 * BatchNorm over channel dim 1 of x [N, C, ...]. `useBatchStats` normalises with the current batch's mean
 * and biased variance (PyTorch training mode / BN-adapt); otherwise with the running statistics.
 */
export function batchNorm(x: Tensor, p: BatchNormParams, useBatchStats = false): Tensor {
  if (x.rank < 2) throw new ShapeError("batchNorm", `x must be [N, C, ...], got ${shapeStr(x.shape)}`);
  const C = x.shape[1];
  for (const [name, t] of [["weight", p.weight], ["bias", p.bias], ["runningMean", p.runningMean], ["runningVar", p.runningVar]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== C)) throw new ShapeError("batchNorm", `${name} ${shapeStr(t.shape)} must be [${C}] for x ${shapeStr(x.shape)}`);
  }
  let mean: Tensor;
  let vari: Tensor;
  if (useBatchStats) ({ mean, variance: vari } = batchStats(x));
  else {
    if (!p.runningMean || !p.runningVar) throw new ShapeError("batchNorm", "running statistics missing (use batch statistics instead)");
    mean = p.runningMean;
    vari = p.runningVar;
  }
  return getBackend().run("batchNorm", { x, mean, variance: vari, weight: p.weight, bias: p.bias }, { eps: p.eps });
}
