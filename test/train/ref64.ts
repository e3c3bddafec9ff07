// Float64 references of every op the autograd differentiates: naive loops over a tiny array type, written
// independently of src/tensor, the oracle for the finite-difference gradient checks.
import { windowOut } from "../../src/tensor/ops/conv.js";
import { erfSeries } from "../../src/tensor/kernels/cpu/math.js";
import type { Tensor } from "../../src/tensor/tensor.js";

export interface A64 {
  shape: number[];
  data: Float64Array;
}

export const a64 = (shape: readonly number[], data?: Float64Array): A64 => ({
  shape: [...shape],
  data: data ?? new Float64Array(shape.reduce((p, d) => p * d, 1)),
});

export const fromTensor = (t: Tensor): A64 => a64(t.shape, Float64Array.from(t.data));

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of flat offset i in `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Offset in a tensor of `shape` (right-aligned, size-1 dims broadcast) of output index `idx`. */
function broadcastOffset(idx: readonly number[], shape: readonly number[]): number {
  const s = strides(shape);
  const lead = idx.length - shape.length;
  let off = 0;
  for (let d = 0; d < shape.length; d++) off += (shape[d] === 1 ? 0 : idx[lead + d]) * s[d];
  return off;
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => Math.max(a[a.length - rank + i] ?? 1, b[b.length - rank + i] ?? 1));
}

export function binary(a: A64, b: A64, f: (x: number, y: number) => number): A64 {
  const out = a64(broadcastShape(a.shape, b.shape));
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, out.shape);
    out.data[i] = f(a.data[broadcastOffset(idx, a.shape)], b.data[broadcastOffset(idx, b.shape)]);
  }
  return out;
}

export const map = (x: A64, f: (v: number) => number): A64 => a64(x.shape, x.data.map(f));
export const gelu = (v: number): number => 0.5 * v * (1 + erfSeries(v / Math.SQRT2));

export function expand(x: A64, shape: readonly number[]): A64 {
  const out = a64(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = x.data[broadcastOffset(unravel(i, shape), x.shape)];
  return out;
}

/** Sum or mean over `axes`, keeping them as size 1 when keepDims. */
export function reduce(x: A64, axes: readonly number[], kind: "sum" | "mean", keepDims: boolean): A64 {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = a64(kept);
  const count = axes.reduce((p, a) => p * x.shape[a], 1);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (axes.includes(d) ? 0 : v));
    out.data[broadcastOffset(idx, kept)] += x.data[i];
  }
  if (kind === "mean") out.data = out.data.map((v) => v / count);
  return keepDims ? out : a64(
    x.shape.filter((_, i) => !axes.includes(i)),
    out.data,
  );
}

/** Batched matmul with optional transposes and broadcast batch dims. */
export function matmul(a: A64, b: A64, tA: boolean, tB: boolean): A64 {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = tA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShape(batchA, batchB);
  const out = a64([...batch, M, N]);
  const nb = batch.reduce((p, d) => p * d, 1);
  const sizeA = a.shape[ra - 2] * a.shape[ra - 1];
  const sizeB = b.shape[rb - 2] * b.shape[rb - 1];
  for (let bi = 0; bi < nb; bi++) {
    const idx = unravel(bi, batch);
    const offA = broadcastOffset(idx, batchA) * sizeA;
    const offB = broadcastOffset(idx, batchB) * sizeB;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = a.data[offA + (tA ? k * M + m : m * K + k)];
          const bv = b.data[offB + (tB ? n * K + k : k * N + n)];
          acc += av * bv;
        }
        out.data[(bi * M + m) * N + n] = acc;
      }
    }
  }
  return out;
}

export function linear(x: A64, w: A64, b: A64 | null): A64 {
  const y = matmul(x, w, false, true);
  return b ? binary(y, b, (p, q) => p + q) : y;
}

export function conv2d(x: A64, w: A64, b: A64 | null, stride: number, padding: number, groups: number): A64 {
  const [N, C, H, W] = x.shape;
  const [K, Cg, kh, kw] = w.shape;
  const OH = Math.floor((H + 2 * padding - kh) / stride) + 1;
  const OW = Math.floor((W + 2 * padding - kw) / stride) + 1;
  const out = a64([N, K, OH, OW]);
  const Kg = K / groups;
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = b ? b.data[k] : 0;
          const g = Math.floor(k / Kg);
          for (let c = 0; c < Cg; c++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = oy * stride - padding + i;
                const ix = ox * stride - padding + j;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += x.data[((n * C + g * Cg + c) * H + iy) * W + ix] * w.data[((k * Cg + c) * kh + i) * kw + j];
              }
          out.data[((n * K + k) * OH + oy) * OW + ox] = acc;
        }
  return out;
}

export interface PoolRef {
  kernel: number;
  stride: number;
  padding: number;
  ceilMode: boolean;
  countIncludePad: boolean;
}

export function pool2d(x: A64, mode: "max" | "avg", p: PoolRef): A64 {
  const [N, C, H, W] = x.shape;
  const OH = windowOut(H, p.kernel, p.stride, p.padding, 1, p.ceilMode);
  const OW = windowOut(W, p.kernel, p.stride, p.padding, 1, p.ceilMode);
  const out = a64([N, C, OH, OW]);
  for (let nc = 0; nc < N * C; nc++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const y0 = oy * p.stride - p.padding;
        const x0 = ox * p.stride - p.padding;
        let acc = mode === "max" ? -Infinity : 0;
        let count = 0;
        for (let i = 0; i < p.kernel; i++)
          for (let j = 0; j < p.kernel; j++) {
            const iy = y0 + i;
            const ix = x0 + j;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const v = x.data[(nc * H + iy) * W + ix];
            acc = mode === "max" ? Math.max(acc, v) : acc + v;
            count++;
          }
        if (mode === "avg") {
          const div = p.countIncludePad ? (Math.min(y0 + p.kernel, H + p.padding) - y0) * (Math.min(x0 + p.kernel, W + p.padding) - x0) : count;
          acc /= div;
        }
        out.data[(nc * OH + oy) * OW + ox] = acc;
      }
  return out;
}

export function layerNorm(x: A64, w: A64 | null, b: A64 | null, eps: number): A64 {
  const D = x.shape[x.shape.length - 1];
  const out = a64(x.shape);
  for (let r = 0; r < x.data.length / D; r++) {
    const row = x.data.subarray(r * D, (r + 1) * D);
    const mean = row.reduce((s, v) => s + v, 0) / D;
    const vari = row.reduce((s, v) => s + (v - mean) ** 2, 0) / D;
    for (let i = 0; i < D; i++) {
      out.data[r * D + i] = ((row[i] - mean) / Math.sqrt(vari + eps)) * (w ? w.data[i] : 1) + (b ? b.data[i] : 0);
    }
  }
  return out;
}

/** BatchNorm over dim 1 with the batch's statistics (running = null) or the given ones. */
export function batchNorm(x: A64, w: A64 | null, b: A64 | null, eps: number, running: { mean: A64; var: A64 } | null): A64 {
  const [N, C] = x.shape;
  const S = x.data.length / (N * C);
  const out = a64(x.shape);
  for (let c = 0; c < C; c++) {
    let mean: number;
    let vari: number;
    if (running) {
      mean = running.mean.data[c];
      vari = running.var.data[c];
    } else {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) s += x.data[(n * C + c) * S + i];
      mean = s / (N * S);
      let v = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) v += (x.data[(n * C + c) * S + i] - mean) ** 2;
      vari = v / (N * S);
    }
    for (let n = 0; n < N; n++)
      for (let i = 0; i < S; i++) {
        const at = (n * C + c) * S + i;
        out.data[at] = ((x.data[at] - mean) / Math.sqrt(vari + eps)) * (w ? w.data[c] : 1) + (b ? b.data[c] : 0);
      }
  }
  return out;
}

export function softmax(x: A64, axis: number, log: boolean): A64 {
  const D = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = x.data.length / (D * inner);
  const out = a64(x.shape);
  for (let o = 0; o < outer; o++)
    for (let b = 0; b < inner; b++) {
      const at = (i: number) => o * D * inner + i * inner + b;
      let max = -Infinity;
      for (let i = 0; i < D; i++) max = Math.max(max, x.data[at(i)]);
      let s = 0;
      for (let i = 0; i < D; i++) s += Math.exp(x.data[at(i)] - max);
      for (let i = 0; i < D; i++) {
        const lp = x.data[at(i)] - max - Math.log(s);
        out.data[at(i)] = log ? lp : Math.exp(lp);
      }
    }
  return out;
}

export function crossEntropy(logits: A64, labels: readonly number[], smoothing: number): A64 {
  const [N, K] = logits.shape;
  const lp = softmax(logits, 1, true);
  let loss = 0;
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) loss -= ((k === labels[n] ? 1 - smoothing : 0) + smoothing / K) * lp.data[n * K + k];
  return a64([], Float64Array.of(loss / N));
}

export function permute(x: A64, perm: readonly number[]): A64 {
  const outShape = perm.map((p) => x.shape[p]);
  const s = strides(x.shape);
  const out = a64(outShape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, outShape);
    out.data[i] = x.data[idx.reduce((off, v, d) => off + v * s[perm[d]], 0)];
  }
  return out;
}

/** x[start + i*step] per axis with `count` samples per axis. */
export function slice(x: A64, starts: readonly number[], steps: readonly number[], counts: readonly number[]): A64 {
  const s = strides(x.shape);
  const out = a64(counts);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, counts);
    out.data[i] = x.data[idx.reduce((off, v, d) => off + (starts[d] + v * steps[d]) * s[d], 0)];
  }
  return out;
}

export function concat(xs: readonly A64[], axis: number): A64 {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((p, x) => p + x.shape[axis], 0);
  const out = a64(shape);
  const so = strides(shape);
  let offset = 0;
  for (const x of xs) {
    for (let i = 0; i < x.data.length; i++) {
      const idx = unravel(i, x.shape);
      idx[axis] += offset;
      out.data[idx.reduce((off, v, d) => off + v * so[d], 0)] = x.data[i];
    }
    offset += x.shape[axis];
  }
  return out;
}

export function pad(x: A64, pads: readonly (readonly [number, number])[], value: number): A64 {
  const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const out = a64(shape, new Float64Array(shape.reduce((p, d) => p * d, 1)).fill(value));
  const so = strides(shape);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    out.data[idx.reduce((off, v, d) => off + (v + pads[d][0]) * so[d], 0)] = x.data[i];
  }
  return out;
}
