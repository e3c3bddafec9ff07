// Differentiable shape and data movement: reshape, flatten, permute, transpose, slice, concat, pad, expand.
// Each backward moves the gradient back: reshape back, inverse permutation, scatter into zeros (slice),
// split (concat), crop (pad), sum over the broadcast dims (expand).
import type { Pair } from "../tensor/backend.js";
import * as M from "../tensor/ops/movement.js";
import { normAxis, stridesOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, record } from "./autograd.js";
import { expandTo, unbroadcast } from "./grad_elementwise.js";

export function reshape(x: Var, shape: readonly number[]): Var {
  return record("reshape", x.value.reshape(shape), [x], (g) => [g.reshape(x.shape)]);
}

/** Collapses dims [startDim, end) into one. */
export function flatten(x: Var, startDim = 1): Var {
  return record("flatten", M.flatten(x.value, startDim), [x], (g) => [g.reshape(x.shape)]);
}

/** out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Var, perm: readonly number[]): Var {
  const y = M.permute(x.value, perm);
  const p = perm.map((a) => normAxis("permute", a, x.shape.length));
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => (inverse[a] = i));
  return record("permute", y, [x], (g) => [M.permute(g, inverse)]);
}

export function transpose(x: Var, a = -2, b = -1): Var {
  const perm = x.shape.map((_, i) => i);
  const i = normAxis("transpose", a, x.shape.length);
  const j = normAxis("transpose", b, x.shape.length);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/** x[start:end:step, ...] (same ranges as the plain slice op). */
export function slice(x: Var, ranges: readonly (M.SliceRange | null | undefined)[]): Var {
  const y = M.slice(x.value, ranges);
  // Start of each axis, resolved as the plain op does (negative counts from the end, clamped).
  const starts = x.shape.map((d, i) => {
    const s = ranges[i]?.start ?? 0;
    return Math.min(d, Math.max(0, s < 0 ? s + d : s));
  });
  const steps = x.shape.map((_, i) => ranges[i]?.step ?? 1);
  return record("slice", y, [x], (g) => [sliceScatter(g, x.shape, starts, steps)]);
}

/** Zeros of `shape` with g written at [start + i * step] per axis: the adjoint of slice. */
function sliceScatter(g: Tensor, shape: readonly number[], starts: readonly number[], steps: readonly number[]): Tensor {
  const out = new Tensor(shape);
  const rank = shape.length;
  const xStrides = stridesOf(shape);
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  for (let a = 0; a < rank; a++) base += starts[a] * xStrides[a];
  let at = base;
  for (let i = 0; i < g.size; i++) {
    out.data[at] += g.data[i];
    // Odometer increment over g's multi-index, updating the x offset incrementally.
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      at += steps[a] * xStrides[a];
      if (idx[a] < g.shape[a]) break;
      at -= idx[a] * steps[a] * xStrides[a];
      idx[a] = 0;
    }
  }
  return out;
}

export function concat(xs: readonly Var[], axis = 0): Var {
  const y = M.concat(
    xs.map((v) => v.value),
    axis,
  );
  const a = normAxis("concat", axis, y.rank);
  return record("concat", y, xs, (g, needs) => {
    let offset = 0;
    return xs.map((v, i) => {
      const start = offset;
      offset += v.shape[a];
      if (!needs[i]) return null;
      const ranges: M.SliceRange[] = g.shape.map(() => ({}));
      ranges[a] = { start, end: offset };
      return M.slice(g, ranges);
    });
  });
}

/** Constant padding, pads[d] = [before, after] for every dim. */
export function pad(x: Var, pads: readonly Pair[], value = 0): Var {
  const y = M.pad(x.value, pads, value);
  return record("pad", y, [x], (g) => [M.slice(g, x.shape.map((d, i) => ({ start: pads[i][0], end: pads[i][0] + d })))]);
}

/** x broadcast to `shape` (NumPy rules), e.g. a class token [1, 1, D] to [N, 1, D]. */
export function expand(x: Var, shape: readonly number[]): Var {
  return record("expand", expandTo(x.value, shape), [x], (g) => [unbroadcast(g, x.shape)]);
}
