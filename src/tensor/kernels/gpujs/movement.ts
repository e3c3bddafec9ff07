// Data movement on gpu.js, so a permute / slice / pad / concat between two GPU ops keeps the data on the GPU
// (ViT's head split and merge, its class-token concat and slice; see runtime.ts, residency).
// permute, slice and pad are one strided gather, one output element per thread (output [x = flat index]):
//   rem = i;  for d < R:  q = floor((rem + 0.5) / outStride[d]);  rem -= q * outStride[d]
//                         src += (q - lo[d]) * inStride[d];  inside &= lo[d] <= q < hi[d]
//   out[i] = inside ? x[base + src] : value
// with, per op,  permute: inStride[d] = stride of x's dim perm[d], lo = 0, hi = out dim;
//                slice:   inStride[d] = stride[d] * step[d], base = sum start[d] * stride[d];
//                pad:     lo[d] = pads[d][0], hi[d] = lo[d] + x dim d, inStride = x's strides.
// The floor division is exact while i < MAX_GPU_DIVIDEND (limits.ts), so larger tensors run on the CPU.
// concat folds the output to [outer, A + B, inner] and reads the first or the second input (pairwise for more).
import type { KernelFn, KernelSpecs } from "../../backend.js";
import { sizeOf, stridesOf } from "../../shape.js";
import { Tensor } from "../../tensor.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits, fits } from "./limits.js";
import type { GpujsRuntime, KernelThis } from "./runtime.js";

interface GatherConstants {
  R: number;
  base: number;
  value: number;
}

/**
 * Kernel body: thread x = output flat index. `geo` holds 4 rows of R values: the output strides, the input
 * strides, lo and hi per output dim.
 */
export function gatherBody(this: KernelThis<GatherConstants>, x: Float32Array, geo: Float32Array): number {
  let rem = this.thread.x;
  let src = this.constants.base;
  let inside = 1;
  for (let d = 0; d < this.constants.R; d++) {
    const os = geo[d];
    const q = Math.floor((rem + 0.5) / os);
    rem = rem - q * os;
    const lo = geo[2 * this.constants.R + d];
    src = src + (q - lo) * geo[this.constants.R + d];
    if (q < lo || q >= geo[3 * this.constants.R + d]) inside = 0;
  }
  if (inside === 0) return this.constants.value;
  return x[src];
}

interface Gather {
  outShape: readonly number[];
  inStrides: readonly number[];
  lo: readonly number[];
  hi: readonly number[];
  base: number;
  value: number;
}

/** Runs the gather on the GPU, or returns null when the output is too large for exact index division. */
function gather(rt: GpujsRuntime, lim: GpuLimits, x: Tensor, g: Gather): Tensor | null {
  const size = sizeOf(g.outShape);
  if (size === 0) return new Tensor(g.outShape);
  if (size >= lim.dividend || !fits(lim, x.size)) return null;
  const R = g.outShape.length;
  const geo = Float32Array.from([...stridesOf(g.outShape), ...g.inStrides, ...g.lo, ...g.hi]);
  const c: GatherConstants = { R, base: g.base, value: g.value };
  const key = `gather|${size}|${R},${g.base},${g.value}|${x.size}|${rt.argKey(x)}`;
  const k = rt.kernel(key, () => ({ body: gatherBody as never, settings: { output: [size], constants: { ...c }, ...rt.outputSettings } }));
  return rt.run(k, g.outShape, rt.arg(x), R === 0 ? Float32Array.of(0) : geo);
}

export function permuteGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"permute">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"permute"> {
  return (inputs: KernelSpecs["permute"]["inputs"], attrs: KernelSpecs["permute"]["attrs"]): Tensor => {
    const { x } = inputs;
    const s = stridesOf(x.shape);
    const outShape = attrs.perm.map((p) => x.shape[p]);
    const g = { outShape, inStrides: attrs.perm.map((p) => s[p]), lo: outShape.map(() => 0), hi: outShape, base: 0, value: 0 };
    return gather(rt(), lim, x, g) ?? fallback(inputs, attrs);
  };
}

export function sliceGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"slice">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"slice"> {
  return (inputs: KernelSpecs["slice"]["inputs"], attrs: KernelSpecs["slice"]["attrs"]): Tensor => {
    const { x } = inputs;
    const { starts, steps, outShape } = attrs;
    const s = stridesOf(x.shape);
    const base = starts.reduce((acc, st, d) => acc + st * s[d], 0);
    const g = { outShape, inStrides: s.map((st, d) => st * steps[d]), lo: outShape.map(() => 0), hi: outShape, base, value: 0 };
    return gather(rt(), lim, x, g) ?? fallback(inputs, attrs);
  };
}

export function padGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"pad">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"pad"> {
  return (inputs: KernelSpecs["pad"]["inputs"], attrs: KernelSpecs["pad"]["attrs"]): Tensor => {
    const { x } = inputs;
    const { pads, value } = attrs;
    // A NaN or infinite fill value cannot be a shader constant: those run on the CPU.
    if (!Number.isFinite(value)) return fallback(inputs, attrs);
    const outShape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
    const lo = pads.map((p) => p[0]);
    const g = { outShape, inStrides: stridesOf(x.shape), lo, hi: x.shape.map((d, i) => lo[i] + d), base: 0, value };
    return gather(rt(), lim, x, g) ?? fallback(inputs, attrs);
  };
}

/** Kernel body: thread (x, y, z) = (inner, position along the axis, outer). */
export function concat2Body(this: KernelThis<{ A: number; B: number; inner: number }>, a: Float32Array, b: Float32Array): number {
  const y = this.thread.y;
  if (y < this.constants.A) return a[(this.thread.z * this.constants.A + y) * this.constants.inner + this.thread.x];
  return b[(this.thread.z * this.constants.B + y - this.constants.A) * this.constants.inner + this.thread.x];
}

export function concatGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"concat">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"concat"> {
  return (inputs: KernelSpecs["concat"]["inputs"], attrs: KernelSpecs["concat"]["attrs"]): Tensor => {
    const { xs } = inputs;
    const { axis } = attrs;
    const total = xs.reduce((p, t) => p + t.size, 0);
    if (xs.length < 2 || xs.some((t) => t.size === 0) || !fits(lim, total)) return fallback(inputs, attrs);
    const runtime = rt();
    const shape = xs[0].shape;
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    let acc = xs[0];
    for (let i = 1; i < xs.length; i++) {
      const b = xs[i];
      const A = acc.shape[axis];
      const B = b.shape[axis];
      const outShape = shape.map((d, j) => (j === axis ? A + B : d));
      const c = { A, B, inner };
      const key = `concat2|${outer},${A},${B},${inner}|${runtime.argKey(acc, b)}`;
      const k = runtime.kernel(key, () => ({ body: concat2Body as never, settings: { output: [inner, A + B, outer], constants: { ...c }, ...runtime.outputSettings } }));
      acc = runtime.run(k, outShape, runtime.arg(acc), runtime.arg(b));
    }
    return acc;
  };
}
