// Elementwise kernels on gpu.js, one output element per thread.
// unary: out[i] = f(x[i]), f chosen by a compile-time op code (the shader keeps one branch).
// binary: the broadcast output is folded to [outer, mid, inner] so that each operand is either full
// (index (z*mid + y)*inner + x), varies over the mid block only (index y: a bias, a per-channel scale, a
// position embedding), or is a scalar (index 0). Other broadcasts run on the CPU. Output [x=inner, y=mid, z=outer].
// GELU uses erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7) since GLSL has no erf; tanh and sigmoid are
// written so no exp overflows. Outputs stay on the GPU on the GL backends (runtime.ts, residency).
import type { BinaryOp, KernelFn, KernelSpecs, UnaryOp } from "../../backend.js";
import { sizeOf } from "../../shape.js";
import { Tensor } from "../../tensor.js";
import { DEFAULT_GPU_LIMITS, type GpuLimits, fits } from "./limits.js";
import type { GpujsRuntime, KernelThis } from "./runtime.js";

const UNARY_CODE: Record<UnaryOp, number> = {
  relu: 0, gelu: 1, exp: 2, log: 3, sqrt: 4, rsqrt: 5, abs: 6, neg: 7, square: 8, tanh: 9, sigmoid: 10,
};
const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };

/** Kernel body: thread x = element index. */
export function unaryBody(this: KernelThis<{ op: number }>, x: Float32Array): number {
  const v = x[this.thread.x];
  const op = this.constants.op;
  if (op === 0) return v > 0 ? v : 0;
  if (op === 1) {
    // 0.5 v (1 + erf(v / sqrt 2)), erf(u) = 1 - poly(t) exp(-u^2), t = 1 / (1 + p|u|) (A&S 7.1.26).
    const u = Math.abs(v) * 0.7071067811865476;
    const t = 1 / (1 + 0.3275911 * u);
    const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    const e = 1 - poly * Math.exp(-u * u);
    return 0.5 * v * (1 + (v < 0 ? -e : e));
  }
  if (op === 2) return Math.exp(v);
  if (op === 3) return Math.log(v);
  if (op === 4) return Math.sqrt(v);
  if (op === 5) return 1 / Math.sqrt(v);
  if (op === 6) return Math.abs(v);
  if (op === 7) return -v;
  if (op === 8) return v * v;
  if (op === 9) {
    const t = Math.exp(-2 * Math.abs(v));
    const r = (1 - t) / (1 + t);
    return v < 0 ? -r : r;
  }
  // sigmoid: exp of a non-positive argument only.
  const e = Math.exp(-Math.abs(v));
  return v >= 0 ? 1 / (1 + e) : e / (1 + e);
}

interface BinaryConstants {
  op: number;
  /** 1 when the operand is read at the full index, else 0. */
  fullA: number;
  fullB: number;
  /** 1 when the operand is read at the mid index only, else 0 (both 0: a scalar, index 0). */
  midA: number;
  midB: number;
  mid: number;
  inner: number;
}

/** Kernel body: thread (x, y, z) = (inner, mid, outer) index. */
export function binaryBody(this: KernelThis<BinaryConstants>, a: Float32Array, b: Float32Array): number {
  const full = (this.thread.z * this.constants.mid + this.thread.y) * this.constants.inner + this.thread.x;
  // NOTE: selection by 0/1 weights, not a ternary: GLSL rejects `cond ? threadId.y : 0.0` (int vs float).
  const ia = this.constants.fullA * full + this.constants.midA * this.thread.y;
  const ib = this.constants.fullB * full + this.constants.midB * this.thread.y;
  const u = a[ia];
  const v = b[ib];
  const op = this.constants.op;
  if (op === 0) return u + v;
  if (op === 1) return u - v;
  if (op === 2) return u * v;
  if (op === 3) return u / v;
  // NOTE: u !== u is the NaN test of the CPU kernels (max/min propagate a NaN first operand); GL drivers
  // may fold it away, so NaN propagation is only guaranteed in gpu.js cpu mode.
  if (op === 4) return u > v || u !== u ? u : v;
  return u < v || u !== u ? u : v;
}

/** How an operand of `shape` is read from the broadcast output folded to [outer, mid, inner]. */
interface Fold {
  mode: 0 | 1 | 2;
  outer: number;
  mid: number;
  inner: number;
}

/** The fold for one operand, or null when the dims it keeps are not one contiguous block of the output. */
export function foldOperand(shape: readonly number[], outShape: readonly number[]): Fold | null {
  const r = outShape.length;
  const lead = r - shape.length;
  const kept: number[] = [];
  let n = 1;
  for (let d = 0; d < r; d++) {
    n *= outShape[d];
    if (outShape[d] === 1) continue;
    if (d >= lead && shape[d - lead] === outShape[d]) kept.push(d);
  }
  const big = outShape.map((s, d) => (s > 1 ? d : -1)).filter((d) => d >= 0);
  if (kept.length === big.length) return { mode: 0, outer: 1, mid: 1, inner: n };
  if (kept.length === 0) return { mode: 2, outer: 1, mid: 1, inner: n };
  const p = kept[0];
  const q = kept[kept.length - 1] + 1;
  if (big.some((d) => d >= p && d < q && !kept.includes(d))) return null;
  const prod = (lo: number, hi: number): number => outShape.slice(lo, hi).reduce((x, y) => x * y, 1);
  return { mode: 1, outer: prod(0, p), mid: prod(p, q), inner: prod(q, r) };
}

export function unaryGpujs(rt: () => GpujsRuntime, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"unary"> {
  return ({ x }: KernelSpecs["unary"]["inputs"], { op }: KernelSpecs["unary"]["attrs"]): Tensor => {
    if (x.size === 0) return new Tensor(x.shape);
    const runtime = rt();
    const constants = { op: UNARY_CODE[op] };
    if (fits(lim, x.size)) {
      const k = runtime.kernel(`unary|${op}|${x.size}|${runtime.argKey(x)}`, () => ({ body: unaryBody as never, settings: { output: [x.size], constants, ...runtime.outputSettings } }));
      return runtime.run(k, x.shape, runtime.arg(x));
    }
    // Contiguous host chunks below MAX_GPU_ELEMENTS (the thread index is the array index).
    const out = new Float32Array(x.size);
    const chunk = lim.elements - 1;
    for (let s = 0; s < x.size; s += chunk) {
      const part = x.data.subarray(s, Math.min(x.size, s + chunk));
      const k = runtime.kernel(`unary|${op}|${part.length}|h`, () => ({ body: unaryBody as never, settings: { output: [part.length], constants } }));
      runtime.runInto(k, out, s, part);
    }
    return new Tensor(x.shape, out);
  };
}

export function binaryGpujs(rt: () => GpujsRuntime, fallback: KernelFn<"binary">, lim: GpuLimits = DEFAULT_GPU_LIMITS): KernelFn<"binary"> {
  return (inputs: KernelSpecs["binary"]["inputs"], attrs: KernelSpecs["binary"]["attrs"]): Tensor => {
    const { a, b } = inputs;
    const { op, outShape } = attrs;
    const size = sizeOf(outShape);
    if (size === 0) return new Tensor(outShape);
    const fa = foldOperand(a.shape, outShape);
    const fb = foldOperand(b.shape, outShape);
    if (!fa || !fb || !fits(lim, size, a.size, b.size)) return fallback(inputs, attrs);
    // The geometry comes from an operand read over the mid block; two such operands must agree on it.
    const shaped = fa.mode === 1 ? fa : fb;
    if (fa.mode === 1 && fb.mode === 1 && (fa.outer !== fb.outer || fa.mid !== fb.mid)) return fallback(inputs, attrs);
    const c: BinaryConstants = {
      op: BINARY_CODE[op],
      fullA: fa.mode === 0 ? 1 : 0,
      fullB: fb.mode === 0 ? 1 : 0,
      midA: fa.mode === 1 ? 1 : 0,
      midB: fb.mode === 1 ? 1 : 0,
      mid: shaped.mid,
      inner: shaped.inner,
    };
    const runtime = rt();
    const key = `binary|${Object.values(c).join(",")},${shaped.outer}|${a.size},${b.size}|${runtime.argKey(a, b)}`;
    const k = runtime.kernel(key, () => ({
      body: binaryBody as never,
      settings: { output: [shaped.inner, shaped.mid, shaped.outer], constants: { ...c }, ...runtime.outputSettings },
    }));
    return runtime.run(k, outShape, runtime.arg(a), runtime.arg(b));
  };
}
