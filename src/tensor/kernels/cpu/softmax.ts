// softmax / logSoftmax along one axis, max-subtracted, sums in float64.
// x viewed as [outer, D, inner] with D the softmax axis.
import type { KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";

let scratch = new Float64Array(0);

export function softmax({ x }: KernelSpecs["softmax"]["inputs"], { axis, log }: KernelSpecs["softmax"]["attrs"]): Tensor {
  const D = x.shape[axis];
  let inner = 1;
  for (let d = axis + 1; d < x.rank; d++) inner *= x.shape[d];
  const outer = D * inner === 0 ? 0 : x.size / (D * inner);
  const out = new Tensor(x.shape);
  const src = x.data;
  const o = out.data;
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      const base = a * D * inner + b;
      let max = -Infinity;
      for (let i = 0; i < D; i++) max = Math.max(max, src[base + i * inner]);
      let sum = 0;
      if (log) {
        for (let i = 0; i < D; i++) sum += Math.exp(src[base + i * inner] - max);
        const lse = Math.log(sum);
        for (let i = 0; i < D; i++) o[base + i * inner] = src[base + i * inner] - max - lse;
      } else {
        // exp once into a float64 scratch, then normalise.
        if (scratch.length < D) scratch = new Float64Array(D);
        for (let i = 0; i < D; i++) {
          const e = Math.exp(src[base + i * inner] - max);
          scratch[i] = e;
          sum += e;
        }
        for (let i = 0; i < D; i++) o[base + i * inner] = scratch[i] / sum;
      }
    }
  }
  return out;
}
