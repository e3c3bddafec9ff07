// Reductions over a set of axes. The output keeps the reduced dims as size 1.
// Each input element maps to an output element through strides that are 0 on reduced axes.
import type { KernelSpecs } from "../../backend.js";
import { stridesOf } from "../../shape.js";
import { Tensor } from "../../tensor.js";

function outIndexStrides(shape: readonly number[], axes: readonly number[]): { outShape: number[]; strides: number[] } {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const os = stridesOf(outShape);
  return { outShape, strides: os.map((s, i) => (axes.includes(i) ? 0 : s)) };
}

/** Calls f(inputIndex, outputIndex) for every element, in input order. */
function walk(shape: readonly number[], strides: number[], f: (i: number, o: number) => void): void {
  const rank = shape.length;
  const total = shape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  for (let i = 0; i < total; i++) {
    f(i, o);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      o += strides[d];
      if (idx[d] < shape[d]) break;
      o -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

export function reduce({ x }: KernelSpecs["reduce"]["inputs"], { op, axes, unbiased }: KernelSpecs["reduce"]["attrs"]): Tensor {
  const { outShape, strides } = outIndexStrides(x.shape, axes);
  const out = new Tensor(outShape);
  const n = axes.reduce((a, ax) => a * x.shape[ax], 1);
  const acc = new Float64Array(out.size);
  const src = x.data;
  switch (op) {
    case "sum":
    case "mean":
      walk(x.shape, strides, (i, o) => {
        acc[o] += src[i];
      });
      for (let o = 0; o < acc.length; o++) out.data[o] = op === "mean" ? acc[o] / n : acc[o];
      break;
    case "max":
    case "min": {
      acc.fill(op === "max" ? -Infinity : Infinity);
      const better = op === "max" ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
      walk(x.shape, strides, (i, o) => {
        if (better(src[i], acc[o]) || Number.isNaN(src[i])) acc[o] = src[i];
      });
      out.data.set(acc);
      break;
    }
    case "var": {
      walk(x.shape, strides, (i, o) => {
        acc[o] += src[i];
      });
      for (let o = 0; o < acc.length; o++) acc[o] /= n;
      const ss = new Float64Array(out.size);
      walk(x.shape, strides, (i, o) => {
        const d = src[i] - acc[o];
        ss[o] += d * d;
      });
      const div = unbiased ? n - 1 : n;
      for (let o = 0; o < ss.length; o++) out.data[o] = div > 0 ? ss[o] / div : NaN;
      break;
    }
    default:
      op satisfies never;
  }
  return out;
}

export function argmax({ x }: KernelSpecs["argmax"]["inputs"], { axis }: KernelSpecs["argmax"]["attrs"]): Tensor {
  const D = x.shape[axis];
  let inner = 1;
  for (let d = axis + 1; d < x.rank; d++) inner *= x.shape[d];
  const outShape = x.shape.filter((_, i) => i !== axis);
  const out = new Tensor(outShape);
  const outer = D * inner === 0 ? 0 : x.size / (D * inner);
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      const base = a * D * inner + b;
      let best = 0;
      let bestV = x.data[base];
      for (let i = 1; i < D; i++) {
        const v = x.data[base + i * inner];
        if (v > bestV) {
          bestV = v;
          best = i;
        }
      }
      out.data[a * inner + b] = best;
    }
  }
  return out;
}
