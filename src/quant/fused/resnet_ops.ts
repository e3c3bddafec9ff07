// Data movement and pooling of the fused ResNet pipeline, on typed arrays at offsets (the wasm executor passes views
// of the integer runtime's memory, the reference executor plain arrays): shapes per image [C, H, W], n images.
// NOTE: max pooling commutes with the pipeline's monotone output maps (residual values, and codes that are a
// nondecreasing function of them), so pooling values and codes separately equals pooling the reals.

/** Output size of a window: floor((H + 2p - k) / s) + 1. */
export function windowSize(h: number, k: number, s: number, p: number): number {
  return Math.floor((h + 2 * p - k) / s) + 1;
}

/**
 * Option A shortcut: dst[n, c, y, x] = src[n, c - before, y * stride, x * stride] for c - before in [0, C), else 0.
 * src [n, C, H, W] at srcOff, dst [n, K, OH, OW] at dstOff with OH = ceil(H / stride).
 */
export function gatherOptionA(
  src: Int32Array,
  srcOff: number,
  dst: Int32Array,
  dstOff: number,
  n: number,
  dims: { c: number; h: number; w: number; k: number; stride: number; before: number },
): void {
  const { c, h, w, k, stride, before } = dims;
  const oh = Math.ceil(h / stride);
  const ow = Math.ceil(w / stride);
  const plane = oh * ow;
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < k; co++) {
      const d = dstOff + (b * k + co) * plane;
      const ci = co - before;
      if (ci < 0 || ci >= c) {
        dst.fill(0, d, d + plane);
        continue;
      }
      const s = srcOff + (b * c + ci) * h * w;
      for (let y = 0; y < oh; y++) {
        const row = s + y * stride * w;
        const o = d + y * ow;
        for (let x = 0; x < ow; x++) dst[o + x] = src[row + x * stride];
      }
    }
  }
}

/** Max pooling with implicit -infinity padding (PyTorch MaxPool2d): [n, C, H, W] -> [n, C, OH, OW]. */
export function maxPoolPlanes<T extends Int32Array | Uint8Array>(
  src: T,
  srcOff: number,
  dst: T,
  dstOff: number,
  planes: number,
  dims: { h: number; w: number; kernel: number; stride: number; padding: number },
): void {
  const { h, w, kernel, stride, padding } = dims;
  const oh = windowSize(h, kernel, stride, padding);
  const ow = windowSize(w, kernel, stride, padding);
  for (let pl = 0; pl < planes; pl++) {
    const s = srcOff + pl * h * w;
    const d = dstOff + pl * oh * ow;
    for (let y = 0; y < oh; y++) {
      const y0 = Math.max(0, y * stride - padding);
      const y1 = Math.min(h, y * stride - padding + kernel);
      for (let x = 0; x < ow; x++) {
        const x0 = Math.max(0, x * stride - padding);
        const x1 = Math.min(w, x * stride - padding + kernel);
        let m = -Infinity;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) m = Math.max(m, src[s + yy * w + xx]);
        dst[d + y * ow + x] = m;
      }
    }
  }
}

/**
 * Global average pooling of residual values: out[(row0 + b) * C + c] = float32(sum_p v[b, c, p] * unit / P), the
 * sum exact (integers below 2^53), one rounding after.
 */
export function poolValues(src: Int32Array, srcOff: number, n: number, c: number, p: number, unit: number, out: Float32Array, row0: number): void {
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const s = srcOff + (b * c + ch) * p;
      let sum = 0;
      for (let i = 0; i < p; i++) sum += src[s + i];
      out[(row0 + b) * c + ch] = (sum * unit) / p;
    }
  }
}

/**
 * quantize()'s codes for per-tensor unsigned params, written into `out` from `outOff` (no intermediate array): for
 * x[i] in [from, to), clamp(roundHalfToEven(x / scale) + zeroPoint, qmin, qmax), NaN -> zeroPoint. Bit-identical to
 * quantize (the same double division and tie rule, inlined).
 */
export function quantizeInto(x: Float32Array, from: number, to: number, p: { scale: number; zeroPoint: number; qmin: number; qmax: number }, out: Uint8Array, outOff: number): void {
  const { scale, zeroPoint, qmin, qmax } = p;
  for (let i = from, o = outOff; i < to; i++, o++) {
    const v = x[i];
    if (v !== v) {
      out[o] = zeroPoint;
      continue;
    }
    const t = v / scale;
    let r = Math.round(t); // ties toward +infinity
    // NOTE: r - t is exact (|r - t| <= 0.5); an odd r at a tie steps down to the even neighbour. Past +-2^31 the
    // parity test is meaningless, but such codes clamp anyway.
    if (r - t === 0.5 && (r & 1) !== 0) r -= 1;
    const q = r + zeroPoint;
    out[o] = q < qmin ? qmin : q > qmax ? qmax : q;
  }
}
