// Shape and data movement: reshape, flatten, permute, transpose, slice, concat, pad.
import type { Pair } from "../backend.js";
import { getBackend } from "../backends.js";
import { ShapeError, normAxis, shapeStr } from "../shape.js";
import type { Tensor } from "../tensor.js";

export const reshape = (x: Tensor, shape: readonly number[]): Tensor => x.reshape(shape);

/** Collapses dims [startDim, end) into one: flatten([N, C, H, W], 1) -> [N, C*H*W]. */
export function flatten(x: Tensor, startDim = 1): Tensor {
  const s = normAxis("flatten", startDim, x.rank);
  return x.reshape([...x.shape.slice(0, s), x.shape.slice(s).reduce((a, b) => a * b, 1)]);
}

/** out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((a) => normAxis("permute", a, x.rank));
  if (p.length !== x.rank || new Set(p).size !== p.length) {
    throw new ShapeError("permute", `perm [${perm.join(", ")}] is not a permutation of ${x.rank} axes`);
  }
  return getBackend().run("permute", { x }, { perm: p });
}

/** Swaps two axes. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const i = normAxis("transpose", a, x.rank);
  const j = normAxis("transpose", b, x.rank);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/** Per-axis range; omitted fields take the whole axis. Negative start/end count from the end (Python). */
export interface SliceRange {
  start?: number;
  end?: number;
  step?: number;
}

/** x[start:end:step, ...] with positive steps; axes without a range are kept whole. */
export function slice(x: Tensor, ranges: readonly (SliceRange | null | undefined)[]): Tensor {
  if (ranges.length > x.rank) throw new ShapeError("slice", `${ranges.length} ranges for ${shapeStr(x.shape)}`);
  const starts: number[] = [];
  const steps: number[] = [];
  const outShape: number[] = [];
  x.shape.forEach((d, i) => {
    const r = ranges[i] ?? {};
    const step = r.step ?? 1;
    if (!Number.isInteger(step) || step < 1) throw new ShapeError("slice", `step must be a positive integer, got ${step}`);
    const clamp = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    const start = clamp(r.start ?? 0);
    const end = clamp(r.end ?? d);
    starts.push(start);
    steps.push(step);
    outShape.push(end > start ? Math.ceil((end - start) / step) : 0);
  });
  return getBackend().run("slice", { x }, { starts, steps, outShape });
}

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError("concat", "needs at least one tensor");
  const a = normAxis("concat", axis, xs[0].rank);
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new ShapeError("concat", `shapes ${xs.map((u) => shapeStr(u.shape)).join(", ")} differ outside axis ${a}`);
    }
  }
  return getBackend().run("concat", { xs }, { axis: a });
}

/** Constant padding, pads[d] = [before, after] for every dim. */
export function pad(x: Tensor, pads: readonly Pair[], value = 0): Tensor {
  if (pads.length !== x.rank || pads.some((p) => p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new ShapeError("pad", `pads must give [before, after] >= 0 for each of the ${x.rank} dims of ${shapeStr(x.shape)}`);
  }
  return getBackend().run("pad", { x }, { pads, value });
}
