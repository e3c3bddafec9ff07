// Reductions: sum, mean, max, min, variance, std (unbiased flag), argmax.
import type { ReduceOp } from "../backend.js";
import { getBackend } from "../backends.js";
import { ShapeError, normAxis } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { sqrt } from "./elementwise.js";

export interface ReduceOptions {
  keepDims?: boolean;
  /** var/std only: divide by n - 1 (default true, as torch.var). */
  unbiased?: boolean;
}

function normAxes(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : [...axes];
  const res = [...new Set(list.map((a) => normAxis(op, a, x.rank)))].sort((a, b) => a - b);
  if (res.length !== list.length) throw new ShapeError(op, `repeated axis in [${list.join(", ")}]`);
  return res;
}

function reduceOp(op: ReduceOp, x: Tensor, axes: number | readonly number[] | undefined, opts: ReduceOptions): Tensor {
  const ax = normAxes(op, x, axes);
  const y = getBackend().run("reduce", { x }, { op, axes: ax, unbiased: opts.unbiased ?? true });
  return opts.keepDims ? y : y.reshape(x.shape.filter((_, i) => !ax.includes(i)));
}

/** Sum over `axes` (all when omitted). @example sum(x, [2, 3], { keepDims: true }) */
export const sum = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor => reduceOp("sum", x, axes, opts);
export const mean = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor => reduceOp("mean", x, axes, opts);
export const max = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor => reduceOp("max", x, axes, opts);
export const min = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor => reduceOp("min", x, axes, opts);
/** Variance; unbiased (n - 1) by default like torch.var. */
export const variance = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor =>
  reduceOp("var", x, axes, opts);
export const std = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor => sqrt(variance(x, axes, opts));

/** Index of the maximum along `axis` (first on ties), as an Int32Array over the remaining dims. */
export function argmax(x: Tensor, axis = -1): Int32Array {
  const a = normAxis("argmax", axis, x.rank);
  if (x.shape[a] === 0) throw new ShapeError("argmax", "cannot take argmax over an empty axis");
  return Int32Array.from(getBackend().run("argmax", { x }, { axis: a }).data);
}
