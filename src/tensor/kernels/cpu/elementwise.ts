// Elementwise kernels. Binary ops broadcast NumPy-style: each input is walked with strides in output
// space (stride 0 on broadcast dims), innermost dim in a tight loop.
import type { BinaryOp, KernelSpecs, UnaryOp } from "../../backend.js";
import { stridesOf } from "../../shape.js";
import { Tensor } from "../../tensor.js";
import { gelu } from "./math.js";

export function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case "relu":
      return (x) => (x > 0 ? x : 0);
    case "gelu":
      return gelu;
    case "exp":
      return Math.exp;
    case "log":
      return Math.log;
    case "sqrt":
      return Math.sqrt;
    case "rsqrt":
      return (x) => 1 / Math.sqrt(x);
    case "abs":
      return Math.abs;
    case "neg":
      return (x) => -x;
    case "square":
      return (x) => x * x;
    case "tanh":
      return Math.tanh;
    case "sigmoid":
      return (x) => 1 / (1 + Math.exp(-x));
    default:
      return op satisfies never;
  }
}

export function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case "add":
      return (a, b) => a + b;
    case "sub":
      return (a, b) => a - b;
    case "mul":
      return (a, b) => a * b;
    case "div":
      return (a, b) => a / b;
    case "max":
      return (a, b) => (a > b || Number.isNaN(a) ? a : b);
    case "min":
      return (a, b) => (a < b || Number.isNaN(a) ? a : b);
    default:
      return op satisfies never;
  }
}

export function unary({ x }: KernelSpecs["unary"]["inputs"], { op }: KernelSpecs["unary"]["attrs"]): Tensor {
  const out = new Float32Array(x.size);
  const src = x.data;
  if (op === "relu") {
    for (let i = 0; i < src.length; i++) out[i] = src[i] > 0 ? src[i] : 0;
  } else if (op === "gelu") {
    for (let i = 0; i < src.length; i++) out[i] = gelu(src[i]);
  } else {
    const f = unaryFn(op);
    for (let i = 0; i < src.length; i++) out[i] = f(src[i]);
  }
  return new Tensor(x.shape, out);
}

/** Strides of `shape` seen from a broadcast output of rank `rank` (0 where the dim is broadcast). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const own = stridesOf(shape);
  const res = new Array<number>(rank).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = rank - shape.length + i;
    res[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : own[i];
  }
  return res;
}

/**
 * o[i] = a[i % aLen] op b[i % bLen], with the op switched outside the loop so each loop is monomorphic.
 * Covers same-shape, scalar and trailing-block broadcasts (a bias over rows, a position embedding over a batch).
 */
function binaryTiled(op: BinaryOp, ad: Float32Array, bd: Float32Array, o: Float32Array): void {
  const n = o.length;
  const la = ad.length;
  const lb = bd.length;
  switch (op) {
    case "add":
      for (let i = 0, ia = 0, ib = 0; i < n; i++) {
        o[i] = ad[ia] + bd[ib];
        if (++ia === la) ia = 0;
        if (++ib === lb) ib = 0;
      }
      return;
    case "sub":
      for (let i = 0, ia = 0, ib = 0; i < n; i++) {
        o[i] = ad[ia] - bd[ib];
        if (++ia === la) ia = 0;
        if (++ib === lb) ib = 0;
      }
      return;
    case "mul":
      for (let i = 0, ia = 0, ib = 0; i < n; i++) {
        o[i] = ad[ia] * bd[ib];
        if (++ia === la) ia = 0;
        if (++ib === lb) ib = 0;
      }
      return;
    default: {
      const f = binaryFn(op);
      for (let i = 0, ia = 0, ib = 0; i < n; i++) {
        o[i] = f(ad[ia], bd[ib]);
        if (++ia === la) ia = 0;
        if (++ib === lb) ib = 0;
      }
    }
  }
}

/** True when `shape` broadcast to `outShape` is a plain repetition of its data (it differs only by leading 1s). */
function tilesTrailing(shape: readonly number[], outShape: readonly number[]): boolean {
  let i = shape.length - 1;
  let o = outShape.length - 1;
  while (i >= 0 && o >= 0 && shape[i] === outShape[o]) {
    i--;
    o--;
  }
  for (; i >= 0; i--) if (shape[i] !== 1) return false;
  return true;
}

export function binary({ a, b }: KernelSpecs["binary"]["inputs"], { op, outShape }: KernelSpecs["binary"]["attrs"]): Tensor {
  const out = new Tensor(outShape);
  const o = out.data;
  const f = binaryFn(op);
  const ad = a.data;
  const bd = b.data;
  if (o.length > 0 && ad.length > 0 && bd.length > 0 && tilesTrailing(a.shape, outShape) && tilesTrailing(b.shape, outShape)) {
    binaryTiled(op, ad, bd, o);
    return out;
  }
  if (o.length === 0) return out;
  const rank = outShape.length;
  if (rank === 0) {
    o[0] = f(ad[0], bd[0]);
    return out;
  }
  const sa = broadcastStrides(a.shape, outShape);
  const sb = broadcastStrides(b.shape, outShape);
  const inner = outShape[rank - 1];
  const ia = sa[rank - 1];
  const ib = sb[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let offA = 0;
  let offB = 0;
  for (let base = 0; base < o.length; base += inner) {
    let pa = offA;
    let pb = offB;
    for (let j = 0; j < inner; j++) {
      o[base + j] = f(ad[pa], bd[pb]);
      pa += ia;
      pb += ib;
    }
    // Odometer over the outer dims.
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      offA += sa[d];
      offB += sb[d];
      if (idx[d] < outShape[d]) break;
      offA -= sa[d] * outShape[d];
      offB -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}
