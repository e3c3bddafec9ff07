// Pooling: max, average and global average (NCHW).
import type { Pair } from "../backend.js";
import { getBackend } from "../backends.js";
import { ShapeError, shapeStr } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { pair, windowOut } from "./conv.js";
import { mean } from "./reduce.js";

export interface Pool2dOptions {
  stride?: number | Pair; // default: the kernel size (PyTorch)
  padding?: number | Pair;
  countIncludePad?: boolean; // avg only, default true (PyTorch)
  ceilMode?: boolean; // default false
}

function pool(mode: "max" | "avg", x: Tensor, kernel: number | Pair, opts: Pool2dOptions): Tensor {
  const op = mode === "max" ? "maxPool2d" : "avgPool2d";
  if (x.rank !== 4) throw new ShapeError(op, `x must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  const k = pair(op, "kernel", kernel, 1);
  const stride = pair(op, "stride", opts.stride, 0);
  const s: Pair = opts.stride === undefined ? k : stride;
  const padding = pair(op, "padding", opts.padding, 0);
  if (padding[0] * 2 > k[0] || padding[1] * 2 > k[1]) throw new ShapeError(op, `padding ${padding} must be at most half the kernel ${k}`);
  const [N, C, H, W] = x.shape;
  const OH = windowOut(H, k[0], s[0], padding[0], 1, opts.ceilMode ?? false);
  const OW = windowOut(W, k[1], s[1], padding[1], 1, opts.ceilMode ?? false);
  if (OH < 1 || OW < 1) throw new ShapeError(op, `kernel ${k} larger than input ${H}x${W}`);
  return getBackend().run(
    "pool2d",
    { x },
    { mode, kernel: k, stride: s, padding, countIncludePad: opts.countIncludePad ?? true, outShape: [N, C, OH, OW] },
  );
}

export const maxPool2d = (x: Tensor, kernel: number | Pair, opts: Pool2dOptions = {}): Tensor => pool("max", x, kernel, opts);
export const avgPool2d = (x: Tensor, kernel: number | Pair, opts: Pool2dOptions = {}): Tensor => pool("avg", x, kernel, opts);

/** Average pooling to a fixed output size (PyTorch adaptive_avg_pool2d). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | Pair): Tensor {
  if (x.rank !== 4) throw new ShapeError("adaptiveAvgPool2d", `x must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  const [oh, ow] = pair("adaptiveAvgPool2d", "outputSize", outputSize, 1);
  if (oh < 1 || ow < 1) throw new ShapeError("adaptiveAvgPool2d", `outputSize must be >= 1, got ${oh}x${ow}`);
  const [N, C] = x.shape;
  return getBackend().run("adaptiveAvgPool2d", { x }, { outShape: [N, C, oh, ow] });
}

/** Mean over H and W: [N, C, H, W] -> [N, C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError("globalAvgPool2d", `x must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  return mean(x, [2, 3]);
}
