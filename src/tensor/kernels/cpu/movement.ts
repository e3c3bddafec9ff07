// Data movement: permute, strided slice, concat, constant pad. All produce contiguous outputs.
import type { KernelSpecs } from "../../backend.js";
import { stridesOf } from "../../shape.js";
import { Tensor } from "../../tensor.js";

/** Copies a strided source walk into a contiguous destination of shape `outShape`. */
function gather(src: Float32Array, srcOffset: number, srcStrides: readonly number[], outShape: readonly number[], dst: Float32Array): void {
  const rank = outShape.length;
  if (dst.length === 0) return;
  if (rank === 0) {
    dst[0] = src[srcOffset];
    return;
  }
  const inner = outShape[rank - 1];
  const is = srcStrides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let off = srcOffset;
  for (let base = 0; base < dst.length; base += inner) {
    let p = off;
    for (let j = 0; j < inner; j++, p += is) dst[base + j] = src[p];
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += srcStrides[d];
      if (idx[d] < outShape[d]) break;
      off -= srcStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

export function permute({ x }: KernelSpecs["permute"]["inputs"], { perm }: KernelSpecs["permute"]["attrs"]): Tensor {
  const s = stridesOf(x.shape);
  const outShape = perm.map((p) => x.shape[p]);
  const out = new Tensor(outShape);
  gather(
    x.data,
    0,
    perm.map((p) => s[p]),
    outShape,
    out.data,
  );
  return out;
}

export function slice({ x }: KernelSpecs["slice"]["inputs"], { starts, steps, outShape }: KernelSpecs["slice"]["attrs"]): Tensor {
  const s = stridesOf(x.shape);
  const out = new Tensor(outShape);
  const offset = starts.reduce((acc, st, d) => acc + st * s[d], 0);
  gather(
    x.data,
    offset,
    s.map((st, d) => st * steps[d]),
    outShape,
    out.data,
  );
  return out;
}

export function concat({ xs }: KernelSpecs["concat"]["inputs"], { axis }: KernelSpecs["concat"]["attrs"]): Tensor {
  const first = xs[0];
  const outShape = [...first.shape];
  outShape[axis] = xs.reduce((a, t) => a + t.shape[axis], 0);
  const out = new Tensor(outShape);
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= outShape[d];
  const outRow = out.size / Math.max(1, outer);
  let col = 0;
  for (const t of xs) {
    const row = t.size / Math.max(1, outer);
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * row, (o + 1) * row), o * outRow + col);
    col += row;
  }
  return out;
}

export function pad({ x }: KernelSpecs["pad"]["inputs"], { pads, value }: KernelSpecs["pad"]["attrs"]): Tensor {
  const outShape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const out = Tensor.full(outShape, value);
  const os = stridesOf(outShape);
  const offset = pads.reduce((acc, p, d) => acc + p[0] * os[d], 0);
  // Scatter x into the interior: walk x contiguously, write through the output strides.
  const rank = x.rank;
  if (x.size === 0) return out;
  if (rank === 0) {
    out.data[0] = x.data[0];
    return out;
  }
  const inner = x.shape[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let off = offset;
  for (let base = 0; base < x.size; base += inner) {
    out.data.set(x.data.subarray(base, base + inner), off);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += os[d];
      if (idx[d] < x.shape[d]) break;
      off -= os[d] * x.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
