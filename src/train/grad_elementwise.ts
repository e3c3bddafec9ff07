// Differentiable elementwise ops with NumPy broadcasting. The gradient of a broadcast operand is the output
// gradient summed over the dims it was broadcast along (unbroadcast).
// d(a+b) = g, g    d(a-b) = g, -g    d(a*b) = g*b, g*a    d(a/b) = g/b, -g*a/b^2
// relu' = [x > 0]   gelu'(x) = Phi(x) + x phi(x)   exp' = exp   log' = 1/x
import * as E from "../tensor/ops/elementwise.js";
import { sum } from "../tensor/ops/reduce.js";
import { erf } from "../tensor/kernels/cpu/math.js";
import { ShapeError, broadcastShapes, sameShape, shapeStr, stridesOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, constant, record } from "./autograd.js";

export type Operand = Var | number;

function lift(x: Operand): Var {
  return typeof x === "number" ? constant(Tensor.scalar(x)) : x;
}

/** Sums g [outShape] down to `shape`, the shape an operand had before broadcasting to outShape. */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return sum(g, axes, { keepDims: true }).reshape(shape);
}

/** t broadcast to `shape` (NumPy rules), materialised. */
export function expandTo(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  if (!sameShape(broadcastShapes("expand", t.shape, shape), shape)) throw new ShapeError("expand", `cannot expand ${shapeStr(t.shape)} to ${shapeStr(shape)}`);
  if (t.size === 1) return Tensor.full(shape, t.data[0]);
  const out = new Tensor(shape);
  if (out.size === 0) return out;
  const rank = shape.length;
  const lead = rank - t.rank;
  // Source strides over the output's dims: 0 where t has no such dim or has size 1 there.
  const own = stridesOf(t.shape);
  const strides = shape.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : own[i - lead]));
  const inner = shape[rank - 1];
  const is = strides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let base = 0; base < out.size; base += inner) {
    for (let j = 0, p = off; j < inner; j++, p += is) out.data[base + j] = t.data[p];
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** a + b. @example add(x, bias) */
export function add(a: Operand, b: Operand): Var {
  const [va, vb] = [lift(a), lift(b)];
  return record("add", E.add(va.value, vb.value), [va, vb], (g, needs) => [
    needs[0] ? unbroadcast(g, va.shape) : null,
    needs[1] ? unbroadcast(g, vb.shape) : null,
  ]);
}

export function sub(a: Operand, b: Operand): Var {
  const [va, vb] = [lift(a), lift(b)];
  return record("sub", E.sub(va.value, vb.value), [va, vb], (g, needs) => [
    needs[0] ? unbroadcast(g, va.shape) : null,
    needs[1] ? unbroadcast(E.neg(g), vb.shape) : null,
  ]);
}

/** g * t, with a direct loop when t is a single value (scaling by a number, as attention scores). */
function times(g: Tensor, t: Tensor): Tensor {
  if (t.size !== 1) return E.mul(g, t);
  const out = new Tensor(g.shape);
  const k = t.data[0];
  for (let i = 0; i < out.size; i++) out.data[i] = g.data[i] * k;
  return out;
}

export function mul(a: Operand, b: Operand): Var {
  const [va, vb] = [lift(a), lift(b)];
  return record("mul", E.mul(va.value, vb.value), [va, vb], (g, needs) => [
    needs[0] ? unbroadcast(times(g, vb.value), va.shape) : null,
    needs[1] ? unbroadcast(times(g, va.value), vb.shape) : null,
  ]);
}

export function div(a: Operand, b: Operand): Var {
  const [va, vb] = [lift(a), lift(b)];
  const out = E.div(va.value, vb.value);
  return record("div", out, [va, vb], (g, needs) => [
    needs[0] ? unbroadcast(E.div(g, vb.value), va.shape) : null,
    // d(a/b)/db = -a/b^2 = -out/b
    needs[1] ? unbroadcast(E.neg(E.div(E.mul(g, out), vb.value)), vb.shape) : null,
  ]);
}

export function relu(x: Var): Var {
  const y = E.relu(x.value);
  return record("relu", y, [x], (g) => {
    const dx = new Tensor(x.shape);
    // NOTE: relu'(0) = 0, as PyTorch.
    for (let i = 0; i < dx.size; i++) dx.data[i] = x.value.data[i] > 0 ? g.data[i] : 0;
    return [dx];
  });
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** d gelu(x)/dx for gelu(x) = x Phi(x): Phi(x) + x phi(x), phi the standard normal density. */
export function geluDerivative(x: number): number {
  const cdf = 0.5 * (1 + erf(x * INV_SQRT2));
  return cdf + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** GELU, exact erf form (as the ViT MLP). */
export function gelu(x: Var): Var {
  return record("gelu", E.gelu(x.value), [x], (g) => {
    const dx = new Tensor(x.shape);
    for (let i = 0; i < dx.size; i++) dx.data[i] = g.data[i] * geluDerivative(x.value.data[i]);
    return [dx];
  });
}

export function exp(x: Var): Var {
  const y = E.exp(x.value);
  return record("exp", y, [x], (g) => [E.mul(g, y)]);
}

export function log(x: Var): Var {
  return record("log", E.log(x.value), [x], (g) => [E.div(g, x.value)]);
}
