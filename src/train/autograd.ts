// Tape-based reverse-mode automatic differentiation at tensor level (micrograd, Karpathy 2020, with tensors
// instead of scalars). A Var holds a forward value (always computed by the plain ops of src/tensor/ops), the
// parents it was computed from and a backward closure mapping d(loss)/d(value) to one gradient per parent.
// backward(loss) walks the graph in reverse topological order and sums the gradients reaching each leaf.
// The differentiable ops live beside this file, one file per op family (grad_<family>.ts, stems as ops/).
import { ShapeError, sameShape, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

/**
 * Maps the gradient of the op's output to the gradients of its parents (same order, same shapes as the parents'
 * values). `needs[i]` is false when parent i needs no gradient: the closure may then return null for it.
 */
export type BackwardFn = (gradOut: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

export class Var {
  /** d(loss)/d(value) after backward(); set on leaves only (params), summed over calls until cleared. */
  grad: Tensor | null = null;

  constructor(
    readonly value: Tensor,
    readonly parents: readonly Var[],
    readonly backwardFn: BackwardFn | null,
    /** True for trainable leaves and for every Var computed from one (while gradients are enabled). */
    readonly requiresGrad: boolean,
    /** The op that made this Var ("param", "constant", "conv2d", ...), for error messages and debugging. */
    readonly op: string,
  ) {}

  get shape(): readonly number[] {
    return this.value.shape;
  }

  toString(): string {
    return `Var(${this.op}, ${shapeStr(this.shape)})`;
  }
}

/** A trainable leaf: backward() fills its `grad`. */
export function param(value: Tensor): Var {
  return new Var(value, [], null, true, "param");
}

/** A leaf that needs no gradient (inputs, labels, fixed tensors). */
export function constant(value: Tensor): Var {
  return new Var(value, [], null, false, "constant");
}

let gradEnabled = true;

/** Runs `fn` without recording any graph (evaluation): every Var it makes is a constant. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * The result of an op: keeps the parents and the closure only when some parent requires a gradient, so a
 * forward pass over constants (or under noGrad) builds no graph at all.
 */
export function record(op: string, value: Tensor, parents: readonly Var[], backwardFn: BackwardFn): Var {
  if (gradEnabled && parents.some((p) => p.requiresGrad)) return new Var(value, parents, backwardFn, true, op);
  return new Var(value, [], null, false, op);
}

/** a + b for two tensors of one shape, as a new tensor (either may be shared with other gradients). */
function sumOf(a: Tensor, b: Tensor): Tensor {
  const out = new Tensor(a.shape);
  for (let i = 0; i < out.size; i++) out.data[i] = a.data[i] + b.data[i];
  return out;
}

/** Vars reachable from `root` through parents that require gradients, parents before children. */
function topoOrder(root: Var): Var[] {
  const order: Var[] = [];
  const seen = new Set<Var>([root]);
  // Iterative DFS (deep graphs would overflow the call stack): [var, index of the next parent to visit].
  const stack: [Var, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [v, i] = top;
    if (i < v.parents.length) {
      top[1]++;
      const p = v.parents[i];
      if (p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(v);
    }
  }
  return order;
}

/**
 * Reverse-mode pass from `loss`: adds d(loss)/d(leaf) to each reachable trainable leaf's `grad`.
 * `seed` is d(something)/d(loss), default 1 (then loss must be a single value).
 * @example backward(crossEntropy(logits, labels)); sgd.step(params)
 */
export function backward(loss: Var, seed?: Tensor): void {
  if (!loss.requiresGrad) throw new ShapeError("backward", `${loss} does not depend on any parameter`);
  if (!seed && loss.value.size !== 1) throw new ShapeError("backward", `loss must hold one value without a seed, got ${shapeStr(loss.shape)}`);
  const start = seed ?? Tensor.full(loss.shape, 1);
  if (!sameShape(start.shape, loss.shape)) throw new ShapeError("backward", `seed ${shapeStr(start.shape)} does not match ${loss}`);
  const grads = new Map<Var, Tensor>([[loss, start]]);
  const order = topoOrder(loss);
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k];
    const g = grads.get(v);
    if (!g) continue;
    grads.delete(v); // NOTE: frees each intermediate gradient as soon as it has been propagated.
    if (!v.backwardFn) {
      v.grad = v.grad ? sumOf(v.grad, g) : g;
      continue;
    }
    const needs = v.parents.map((p) => p.requiresGrad);
    const parentGrads = v.backwardFn(g, needs);
    v.parents.forEach((p, i) => {
      const pg = parentGrads[i];
      if (!needs[i] || !pg) return;
      if (!sameShape(pg.shape, p.shape)) {
        throw new ShapeError(`backward(${v.op})`, `gradient ${shapeStr(pg.shape)} for parent ${i} of shape ${shapeStr(p.shape)}`);
      }
      const prev = grads.get(p);
      grads.set(p, prev ? sumOf(prev, pg) : pg);
    });
  }
}
