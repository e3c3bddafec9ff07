// conv2d (NCHW, PyTorch semantics: cross-correlation, zero padding).
import type { Pair } from "../backend.js";
import { getBackend } from "../backends.js";
import { ShapeError, shapeStr } from "../shape.js";
import type { Tensor } from "../tensor.js";

export interface Conv2dOptions {
  stride?: number | Pair;
  padding?: number | Pair;
  dilation?: number | Pair;
  groups?: number;
}

export function pair(op: string, name: string, v: number | Pair | undefined, dflt: number): Pair {
  const p: Pair = v === undefined ? [dflt, dflt] : typeof v === "number" ? [v, v] : v;
  if (!p.every((d) => Number.isInteger(d) && d >= 0)) throw new ShapeError(op, `${name} must be non-negative integers, got ${String(v)}`);
  return p;
}

/**
 * Output size of a sliding window: floor((in + 2p - d(k-1) - 1) / s) + 1, or with ceil instead of floor
 * (pooling's ceil_mode), where PyTorch drops a last window that would start in the right padding.
 */
export function windowOut(inSize: number, k: number, s: number, p: number, d = 1, ceil = false): number {
  const span = inSize + 2 * p - d * (k - 1) - 1;
  if (!ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= inSize + p) out--;
  return out;
}

/**
 * 2-D convolution. x: [N, C, H, W], weight: [K, C/groups, kh, kw], bias: [K] -> [N, K, OH, OW].
 * @example conv2d(x, w, null, { stride: 2, padding: 1 })
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const stride = pair("conv2d", "stride", opts.stride, 1);
  const padding = pair("conv2d", "padding", opts.padding, 0);
  const dilation = pair("conv2d", "dilation", opts.dilation, 1);
  const groups = opts.groups ?? 1;
  if (x.rank !== 4) throw new ShapeError("conv2d", `x must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (weight.rank !== 4) throw new ShapeError("conv2d", `weight must be [K, C/groups, kh, kw], got ${shapeStr(weight.shape)}`);
  if (stride[0] < 1 || stride[1] < 1 || dilation[0] < 1 || dilation[1] < 1) {
    throw new ShapeError("conv2d", `stride and dilation must be >= 1`);
  }
  const [N, C, H, W] = x.shape;
  const [K, Cg, kh, kw] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || K % groups !== 0 || Cg * groups !== C) {
    throw new ShapeError("conv2d", `x ${shapeStr(x.shape)} and weight ${shapeStr(weight.shape)} do not match groups=${groups}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== K)) throw new ShapeError("conv2d", `bias ${shapeStr(bias.shape)} must be [${K}]`);
  const OH = windowOut(H, kh, stride[0], padding[0], dilation[0]);
  const OW = windowOut(W, kw, stride[1], padding[1], dilation[1]);
  if (OH < 1 || OW < 1) throw new ShapeError("conv2d", `kernel ${kh}x${kw} larger than padded input ${H}x${W}`);
  return getBackend().run("conv2d", { x, w: weight, bias }, { stride, padding, dilation, groups, outShape: [N, K, OH, OW] });
}
