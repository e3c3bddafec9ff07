// Elementwise ops: validate, compute the broadcast shape, dispatch to the active backend.
import type { BinaryOp, UnaryOp } from "../backend.js";
import { getBackend } from "../backends.js";
import { broadcastShapes } from "../shape.js";
import { Tensor } from "../tensor.js";

type Operand = Tensor | number;

function asTensor(x: Operand): Tensor {
  return typeof x === "number" ? Tensor.scalar(x) : x;
}

function binaryOp(op: BinaryOp, a: Operand, b: Operand): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const outShape = broadcastShapes(op, ta.shape, tb.shape);
  return getBackend().run("binary", { a: ta, b: tb }, { op, outShape });
}

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  return getBackend().run("unary", { x }, { op });
}

/** a + b with broadcasting. @example add(x, bias.reshape([1, C, 1, 1])) */
export const add = (a: Operand, b: Operand): Tensor => binaryOp("add", a, b);
export const sub = (a: Operand, b: Operand): Tensor => binaryOp("sub", a, b);
export const mul = (a: Operand, b: Operand): Tensor => binaryOp("mul", a, b);
export const div = (a: Operand, b: Operand): Tensor => binaryOp("div", a, b);
export const maximum = (a: Operand, b: Operand): Tensor => binaryOp("max", a, b);
export const minimum = (a: Operand, b: Operand): Tensor => binaryOp("min", a, b);

export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
/** GELU, exact erf form (PyTorch's default `approximate='none'`). */
export const gelu = (x: Tensor): Tensor => unaryOp("gelu", x);
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
export const log = (x: Tensor): Tensor => unaryOp("log", x);
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
export const rsqrt = (x: Tensor): Tensor => unaryOp("rsqrt", x);
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
export const square = (x: Tensor): Tensor => unaryOp("square", x);
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
