// 2-D max / average pooling, NCHW. x: [N, C, H, W] -> [N, C, OH, OW].
// Padding counts as -inf for max; for avg, countIncludePad=true divides by kh*kw (PyTorch's default),
// false by the number of in-bounds taps.
import type { KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";

export function pool2d({ x }: KernelSpecs["pool2d"]["inputs"], attrs: KernelSpecs["pool2d"]["attrs"]): Tensor {
  const [N, C, H, W] = x.shape;
  const { mode, kernel, stride, padding, countIncludePad, outShape } = attrs;
  const [, , OH, OW] = outShape;
  const out = new Tensor(outShape);
  const o = out.data;
  const [kh, kw] = kernel;
  for (let nc = 0; nc < N * C; nc++) {
    const src = nc * H * W;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const y0 = oy * stride[0] - padding[0];
        const x0 = ox * stride[1] - padding[1];
        let acc = mode === "max" ? -Infinity : 0;
        let count = 0;
        for (let i = 0; i < kh; i++) {
          const iy = y0 + i;
          if (iy < 0 || iy >= H) continue;
          for (let j = 0; j < kw; j++) {
            const ix = x0 + j;
            if (ix < 0 || ix >= W) continue;
            const v = x.data[src + iy * W + ix];
            if (mode === "max") {
              if (v > acc || Number.isNaN(v)) acc = v;
            } else acc += v;
            count++;
          }
        }
        if (mode === "avg") {
          // PyTorch clips the window to the padded input when counting padding.
          const hEnd = Math.min(y0 + kh, H + padding[0]);
          const wEnd = Math.min(x0 + kw, W + padding[1]);
          const div = countIncludePad ? (hEnd - y0) * (wEnd - x0) : count;
          acc /= div;
        }
        o[(nc * OH + oy) * OW + ox] = acc;
      }
    }
  }
  return out;
}

export function adaptiveAvgPool2d({ x }: KernelSpecs["adaptiveAvgPool2d"]["inputs"], { outShape }: KernelSpecs["adaptiveAvgPool2d"]["attrs"]): Tensor {
  const [N, C, H, W] = x.shape;
  const [, , OH, OW] = outShape;
  const out = new Tensor(outShape);
  for (let nc = 0; nc < N * C; nc++) {
    const src = nc * H * W;
    for (let oy = 0; oy < OH; oy++) {
      const y0 = Math.floor((oy * H) / OH);
      const y1 = Math.ceil(((oy + 1) * H) / OH);
      for (let ox = 0; ox < OW; ox++) {
        const x0 = Math.floor((ox * W) / OW);
        const x1 = Math.ceil(((ox + 1) * W) / OW);
        let acc = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) acc += x.data[src + iy * W + ix];
        out.data[(nc * OH + oy) * OW + ox] = acc / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return out;
}
