// Differentiable pooling (NCHW): max, average and global average.
// max: the gradient goes to the first maximum of each window (the tap the forward kernel kept).
// avg: each in-bounds tap gets g / divisor, the divisor chosen as the forward kernel does (countIncludePad, ceilMode).
// global average: g / (H*W) everywhere.
import type { Pair } from "../tensor/backend.js";
import { div as divT } from "../tensor/ops/elementwise.js";
import { pair } from "../tensor/ops/conv.js";
import * as P from "../tensor/ops/pool.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, record } from "./autograd.js";
import { expandTo } from "./grad_elementwise.js";

interface Window {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
}

function windowOf(kernel: number | Pair, opts: P.Pool2dOptions): Window {
  const k = pair("pool2d", "kernel", kernel, 1);
  return { kernel: k, stride: opts.stride === undefined ? k : pair("pool2d", "stride", opts.stride, 0), padding: pair("pool2d", "padding", opts.padding, 0) };
}

/** Adjoint of max pooling: dy [N, C, OH, OW] routed to the arg-max of each window of x [N, C, H, W]. */
function maxPoolBackward(dy: Tensor, x: Tensor, w: Window): Tensor {
  const [N, C, H, W] = x.shape;
  const [, , OH, OW] = dy.shape;
  const dx = new Tensor(x.shape);
  for (let nc = 0; nc < N * C; nc++) {
    const src = nc * H * W;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const y0 = oy * w.stride[0] - w.padding[0];
        const x0 = ox * w.stride[1] - w.padding[1];
        let best = -Infinity;
        let at = -1;
        for (let i = 0; i < w.kernel[0]; i++) {
          const iy = y0 + i;
          if (iy < 0 || iy >= H) continue;
          for (let j = 0; j < w.kernel[1]; j++) {
            const ix = x0 + j;
            if (ix < 0 || ix >= W) continue;
            const v = x.data[src + iy * W + ix];
            // NOTE: same rule as the forward kernel (strictly greater: the first maximum wins; NaN wins).
            if (at < 0 || v > best || Number.isNaN(v)) {
              best = v;
              at = src + iy * W + ix;
            }
          }
        }
        if (at >= 0) dx.data[at] += dy.data[(nc * OH + oy) * OW + ox];
      }
    }
  }
  return dx;
}

/** Adjoint of average pooling with the forward kernel's divisor. */
function avgPoolBackward(dy: Tensor, xShape: readonly number[], w: Window, countIncludePad: boolean): Tensor {
  const [N, C, H, W] = xShape;
  const [, , OH, OW] = dy.shape;
  const dx = new Tensor(xShape);
  for (let nc = 0; nc < N * C; nc++) {
    const dst = nc * H * W;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const y0 = oy * w.stride[0] - w.padding[0];
        const x0 = ox * w.stride[1] - w.padding[1];
        const yLo = Math.max(0, y0);
        const yHi = Math.min(H, y0 + w.kernel[0]);
        const xLo = Math.max(0, x0);
        const xHi = Math.min(W, x0 + w.kernel[1]);
        let div: number;
        if (countIncludePad) {
          const hEnd = Math.min(y0 + w.kernel[0], H + w.padding[0]);
          const wEnd = Math.min(x0 + w.kernel[1], W + w.padding[1]);
          div = (hEnd - y0) * (wEnd - x0);
        } else div = Math.max(0, yHi - yLo) * Math.max(0, xHi - xLo);
        const share = dy.data[(nc * OH + oy) * OW + ox] / div;
        for (let iy = yLo; iy < yHi; iy++) for (let ix = xLo; ix < xHi; ix++) dx.data[dst + iy * W + ix] += share;
      }
    }
  }
  return dx;
}

export function maxPool2d(x: Var, kernel: number | Pair, opts: P.Pool2dOptions = {}): Var {
  const y = P.maxPool2d(x.value, kernel, opts);
  return record("maxPool2d", y, [x], (g) => [maxPoolBackward(g, x.value, windowOf(kernel, opts))]);
}

export function avgPool2d(x: Var, kernel: number | Pair, opts: P.Pool2dOptions = {}): Var {
  const y = P.avgPool2d(x.value, kernel, opts);
  return record("avgPool2d", y, [x], (g) => [avgPoolBackward(g, x.shape, windowOf(kernel, opts), opts.countIncludePad ?? true)]);
}

/** Mean over H and W: [N, C, H, W] -> [N, C]. */
export function globalAvgPool2d(x: Var): Var {
  const [N, C, H, W] = x.shape;
  const y = P.globalAvgPool2d(x.value);
  return record("globalAvgPool2d", y, [x], (g) => [expandTo(divT(g.reshape([N, C, 1, 1]), H * W), x.shape)]);
}
