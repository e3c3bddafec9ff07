// softmax and logSoftmax along an axis.
import { getBackend } from "../backends.js";
import { normAxis } from "../shape.js";
import type { Tensor } from "../tensor.js";

/** softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max) along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return getBackend().run("softmax", { x }, { axis: normAxis("softmax", axis, x.rank), log: false });
}

/** log softmax, computed as x - max - log(sum exp(x - max)). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return getBackend().run("softmax", { x }, { axis: normAxis("logSoftmax", axis, x.rank), log: true });
}
