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

/**
 * When the kept axes form one contiguous block, x is viewed as [A, B, C] with B kept and A, C reduced
 * (e.g. BatchNorm statistics: A = N, B = C, C = H*W), and plain nested loops replace the strided walk.
 */
export function keptBlock(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  if (kept.length > 0 && kept[kept.length - 1] - kept[0] + 1 !== kept.length) return null;
  const lo = kept.length ? kept[0] : shape.length;
  const hi = kept.length ? kept[kept.length - 1] + 1 : shape.length;
  const prod = (a: number, b: number) => shape.slice(a, b).reduce((p, d) => p * d, 1);
  return [prod(0, lo), prod(lo, hi), prod(hi, shape.length)];
}

function reduceBlocked(x: Tensor, out: Tensor, op: KernelSpecs["reduce"]["attrs"]["op"], unbiased: boolean, [A, B, C]: [number, number, number]): void {
  const src = x.data;
  const n = A * C;
  const acc = new Float64Array(B);
  if (op === "max" || op === "min") acc.fill(op === "max" ? -Infinity : Infinity);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      const base = (a * B + b) * C;
      let s = acc[b];
      if (op === "max") for (let c = 0; c < C; c++) s = src[base + c] > s || Number.isNaN(src[base + c]) ? src[base + c] : s;
      else if (op === "min") for (let c = 0; c < C; c++) s = src[base + c] < s || Number.isNaN(src[base + c]) ? src[base + c] : s;
      else for (let c = 0; c < C; c++) s += src[base + c];
      acc[b] = s;
    }
  }
  if (op !== "var") {
    for (let b = 0; b < B; b++) out.data[b] = op === "mean" ? acc[b] / n : acc[b];
    return;
  }
  for (let b = 0; b < B; b++) acc[b] /= n;
  const ss = new Float64Array(B);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      const base = (a * B + b) * C;
      const m = acc[b];
      let s = 0;
      for (let c = 0; c < C; c++) {
        const d = src[base + c] - m;
        s += d * d;
      }
      ss[b] += s;
    }
  }
  const div = unbiased ? n - 1 : n;
  for (let b = 0; b < B; b++) out.data[b] = div > 0 ? ss[b] / div : NaN;
}

/** Fast path for a contiguous block of kept axes, else the reference walk. */
export function reduce(inputs: KernelSpecs["reduce"]["inputs"], attrs: KernelSpecs["reduce"]["attrs"]): Tensor {
  const block = keptBlock(inputs.x.shape, attrs.axes);
  if (!block || inputs.x.size === 0) return reduceNaive(inputs, attrs);
  const out = new Tensor(inputs.x.shape.map((d, i) => (attrs.axes.includes(i) ? 1 : d)));
  reduceBlocked(inputs.x, out, attrs.op, attrs.unbiased, block);
  return out;
}

/** Reference: every element walks to its output through strides that are 0 on reduced axes. */
export function reduceNaive({ x }: KernelSpecs["reduce"]["inputs"], { op, axes, unbiased }: KernelSpecs["reduce"]["attrs"]): Tensor {
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
