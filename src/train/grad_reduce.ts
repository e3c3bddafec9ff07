// Differentiable sum and mean over axes. Backward broadcasts the output gradient back over the reduced dims
// (divided by the count for mean).
import { div as divT } from "../tensor/ops/elementwise.js";
import * as R from "../tensor/ops/reduce.js";
import { normAxis } from "../tensor/shape.js";
import { type Var, record } from "./autograd.js";
import { expandTo } from "./grad_elementwise.js";

export interface ReduceOptions {
  keepDims?: boolean;
}

function axesOf(op: string, x: Var, axes: number | readonly number[] | undefined): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : [...axes];
  return list.map((a) => normAxis(op, a, x.shape.length));
}

/** The keepDims shape of reducing `shape` over `axes`. */
function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Sum over `axes` (all when omitted). @example sum(x, [2, 3]) */
export function sum(x: Var, axes?: number | readonly number[], opts: ReduceOptions = {}): Var {
  const ax = axesOf("sum", x, axes);
  const y = R.sum(x.value, ax, { keepDims: opts.keepDims ?? false });
  return record("sum", y, [x], (g) => [expandTo(g.reshape(keptShape(x.shape, ax)), x.shape)]);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Var, axes?: number | readonly number[], opts: ReduceOptions = {}): Var {
  const ax = axesOf("mean", x, axes);
  const y = R.mean(x.value, ax, { keepDims: opts.keepDims ?? false });
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  return record("mean", y, [x], (g) => [expandTo(divT(g.reshape(keptShape(x.shape, ax)), count), x.shape)]);
}
