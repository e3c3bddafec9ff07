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

/** Per-channel sums of int32 accumulators over a batch, for BN with batch statistics (accumulateStats). */
export interface AccSums {
  /** sum of acc, sum of acc^2 (float64; exact while below 2^53), largest |acc|; [K] each. */
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  readonly absMax: Float64Array;
  /** Accumulators seen per channel. */
  count: number;
}

export function accSums(k: number): AccSums {
  return { sum: new Float64Array(k), sumSq: new Float64Array(k), absMax: new Float64Array(k), count: 0 };
}

/**
 * Adds accumulators [n, K, P] at srcOff to `s`: each plane's sum, sum of squares and largest |acc| in float64 (the
 * reference of the SIMD kernel acc_stats_kernel.ts), then addPlaneStats, the one order both executors use.
 */
export function accumulateStats(src: Int32Array, srcOff: number, n: number, k: number, p: number, s: AccSums): void {
  const planes = new Float64Array(3 * n * k);
  for (let q = 0; q < n * k; q++) {
    const o = srcOff + q * p;
    let sum = 0;
    let sq = 0;
    let m = 0;
    for (let i = o; i < o + p; i++) {
      const v = src[i];
      sum += v;
      sq += v * v;
      const a = v < 0 ? -v : v;
      if (a > m) m = a;
    }
    planes[3 * q] = sum;
    planes[3 * q + 1] = sq;
    planes[3 * q + 2] = m;
  }
  addPlaneStats(planes, n, k, p, s);
}

/** Adds per-plane statistics [n, K, 3] (sum, sum of squares, max |acc|) of n images to the channel sums `s`. */
export function addPlaneStats(planes: Float64Array, n: number, k: number, p: number, s: AccSums): void {
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < k; c++) {
      const q = 3 * (b * k + c);
      s.sum[c] += planes[q];
      s.sumSq[c] += planes[q + 1];
      if (planes[q + 2] > s.absMax[c]) s.absMax[c] = planes[q + 2];
    }
  }
  s.count += n * p;
}

/** Mean and biased variance (BatchNorm's normalisation) of the accumulated channels, in accumulator steps. */
export function accMoments(s: AccSums): { mean: Float64Array; variance: Float64Array; absMax: Float64Array } {
  const mean = s.sum.map((v) => v / s.count);
  const variance = s.sumSq.map((v, c) => Math.max(0, v / s.count - mean[c] * mean[c]));
  return { mean, variance, absMax: s.absMax };
}
