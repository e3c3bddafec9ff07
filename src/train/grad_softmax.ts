// Differentiable softmax, logSoftmax and cross-entropy with label smoothing (Szegedy et al. 2016, sec. 7).
// softmax:    dx = y * (g - sum(g * y))        logSoftmax: dx = g - softmax(x) * sum(g)      (sums along the axis)
// crossEntropy: q = (1 - e) onehot(label) + e / K, loss = mean_n sum_k -q[n,k] log softmax(z)[n,k],
//               dz = (softmax(z) - q) / N (PyTorch CrossEntropyLoss(label_smoothing=e), mean reduction).
import { ShapeError, normAxis, shapeStr } from "../tensor/shape.js";
import * as S from "../tensor/ops/softmax.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, record } from "./autograd.js";

/** x viewed as [outer, D, inner] around `axis`. */
function around(x: Tensor, axis: number): { outer: number; D: number; inner: number } {
  const D = x.shape[axis];
  let inner = 1;
  for (let d = axis + 1; d < x.rank; d++) inner *= x.shape[d];
  return { outer: D * inner === 0 ? 0 : x.size / (D * inner), D, inner };
}

export function softmax(x: Var, axis = -1): Var {
  const a = normAxis("softmax", axis, x.shape.length);
  const y = S.softmax(x.value, a);
  return record("softmax", y, [x], (g) => {
    const { outer, D, inner } = around(y, a);
    const dx = new Tensor(y.shape);
    for (let o = 0; o < outer; o++) {
      for (let b = 0; b < inner; b++) {
        const base = o * D * inner + b;
        let dot = 0;
        for (let i = 0; i < D; i++) dot += g.data[base + i * inner] * y.data[base + i * inner];
        for (let i = 0; i < D; i++) dx.data[base + i * inner] = y.data[base + i * inner] * (g.data[base + i * inner] - dot);
      }
    }
    return [dx];
  });
}

export function logSoftmax(x: Var, axis = -1): Var {
  const a = normAxis("logSoftmax", axis, x.shape.length);
  const y = S.logSoftmax(x.value, a);
  return record("logSoftmax", y, [x], (g) => {
    const { outer, D, inner } = around(y, a);
    const dx = new Tensor(y.shape);
    for (let o = 0; o < outer; o++) {
      for (let b = 0; b < inner; b++) {
        const base = o * D * inner + b;
        let total = 0;
        for (let i = 0; i < D; i++) total += g.data[base + i * inner];
        for (let i = 0; i < D; i++) dx.data[base + i * inner] = g.data[base + i * inner] - Math.exp(y.data[base + i * inner]) * total;
      }
    }
    return [dx];
  });
}

export interface CrossEntropyOptions {
  /** e in [0, 1): weight moved from the label to the uniform distribution over the K classes. */
  labelSmoothing?: number;
}

/**
 * Mean cross-entropy of logits [N, K] against integer labels [N] -> a single value [].
 * @example backward(crossEntropy(logits, labels, { labelSmoothing: 0.1 }))
 */
export function crossEntropy(logits: Var, labels: ArrayLike<number>, opts: CrossEntropyOptions = {}): Var {
  const e = opts.labelSmoothing ?? 0;
  if (logits.shape.length !== 2) throw new ShapeError("crossEntropy", `logits must be [N, K], got ${shapeStr(logits.shape)}`);
  const [N, K] = logits.shape;
  if (labels.length !== N) throw new ShapeError("crossEntropy", `${labels.length} labels for ${N} rows`);
  if (!(e >= 0 && e < 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1), got ${e}`);
  const logp = S.logSoftmax(logits.value, 1);
  const target = (n: number, k: number): number => (k === labels[n] ? 1 - e : 0) + e / K;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const label = labels[n];
    if (!Number.isInteger(label) || label < 0 || label >= K) throw new RangeError(`crossEntropy: label ${label} of row ${n} outside [0, ${K})`);
    for (let k = 0; k < K; k++) loss -= target(n, k) * logp.data[n * K + k];
  }
  return record("crossEntropy", Tensor.scalar(loss / N), [logits], (g) => {
    const dz = new Tensor([N, K]);
    const scale = g.data[0] / N;
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) dz.data[n * K + k] = (Math.exp(logp.data[n * K + k]) - target(n, k)) * scale;
    }
    return [dz];
  });
}
