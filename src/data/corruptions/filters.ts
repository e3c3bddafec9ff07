// Linear filters as the reference libraries compute them, on one float plane [H, W]:
// - scipy.ndimage.gaussian_filter (what skimage.filters.gaussian calls): kernel radius int(truncate*sigma+0.5),
//   axis 0 then axis 1, symmetric kernels summed as in scipy's correlate1d (outermost pair first).
// - cv2.getGaussianKernel / GaussianBlur on float32 data, and cv2.filter2D with BORDER_REFLECT_101.
// - the defocus "disk" kernel of make_cifar_c.py.
import { clampIndex, reflect101Index, reflectIndex } from "./image.js";

export type ScipyMode = "nearest" | "reflect";

/** scipy `_gaussian_kernel1d(sigma, 0, radius)`: exp(-0.5/sigma^2 * x^2) normalised. */
export function scipyGaussianKernel(sigma: number, truncate: number): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const sigma2 = sigma * sigma;
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 / sigma2) * (i * i));
    w[i + radius] = v;
  }
  // NOTE: numpy sums a short array left to right (pairwise summation only starts at 8 elements, and still
  // adds its first 8 partial sums in a fixed tree). Left-to-right is exact for the few-tap kernels used here
  // to within one ulp; the tests bound the effect on outputs.
  for (let i = 0; i < w.length; i++) sum += w[i];
  for (let i = 0; i < w.length; i++) w[i] = w[i] / sum;
  return w;
}

/**
 * scipy.ndimage.gaussian_filter on one plane [H, W] (float64), axis 0 then axis 1. sigma <= 1e-15 leaves an
 * axis untouched, as scipy does.
 */
export function scipyGaussianFilter(plane: Float64Array, height: number, width: number, sigma: number, mode: ScipyMode, truncate: number): Float64Array {
  if (!(sigma > 1e-15)) return Float64Array.from(plane);
  const w = scipyGaussianKernel(sigma, truncate);
  const r = (w.length - 1) / 2;
  const map = mode === "nearest" ? clampIndex : reflectIndex;
  const tmp = new Float64Array(plane.length);
  // axis 0 (down the columns)
  const line = new Float64Array(height + 2 * r);
  for (let x = 0; x < width; x++) {
    for (let i = -r; i < height + r; i++) line[i + r] = plane[map(i, height) * width + x];
    for (let y = 0; y < height; y++) tmp[y * width + x] = symmetricTap(line, y + r, w, r);
  }
  // axis 1 (along the rows)
  const out = new Float64Array(plane.length);
  const row = new Float64Array(width + 2 * r);
  for (let y = 0; y < height; y++) {
    for (let i = -r; i < width + r; i++) row[i + r] = tmp[y * width + map(i, width)];
    for (let x = 0; x < width; x++) out[y * width + x] = symmetricTap(row, x + r, w, r);
  }
  return out;
}

/** scipy correlate1d, symmetric branch: in[c]*w0, then += (in[c-j] + in[c+j]) * w[j] for j = r..1. */
function symmetricTap(line: Float64Array, c: number, w: Float64Array, r: number): number {
  let acc = line[c] * w[r];
  for (let j = r; j >= 1; j--) acc += (line[c - j] + line[c + j]) * w[r + j];
  return acc;
}

/** cv2.getGaussianKernel(n, sigma) with sigma > 0, as float32 (the kernel type for float32 images). */
export function cvGaussianKernel(n: number, sigma: number): Float32Array {
  const s = sigma > 0 ? sigma : ((n - 1) * 0.5 - 1) * 0.3 + 0.8;
  const scale2 = -0.5 / (s * s);
  const cd = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = i - (n - 1) * 0.5;
    cd[i] = Math.exp(scale2 * x * x);
    sum += cd[i];
  }
  sum = 1 / sum;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = cd[i] * sum;
  return out;
}

/**
 * cv2.GaussianBlur(ksize=(k,k), sigmaX=sigma) of a float32 plane [H, W], BORDER_REFLECT_101: the row filter, then
 * the column filter, each summed in float32 (symmetric kernels: centre, then the pairs).
 */
export function cvGaussianBlurF32(plane: Float32Array, height: number, width: number, ksize: number, sigma: number): Float32Array {
  const k = cvGaussianKernel(ksize, sigma);
  const r = (ksize - 1) / 2;
  const tmp = new Float32Array(plane.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = Math.fround(plane[y * width + x] * k[r]);
      for (let j = 1; j <= r; j++) {
        const a = plane[y * width + reflect101Index(x - j, width)];
        const b = plane[y * width + reflect101Index(x + j, width)];
        s = Math.fround(s + Math.fround(Math.fround(a + b) * k[r + j]));
      }
      tmp[y * width + x] = s;
    }
  }
  const out = new Float32Array(plane.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = Math.fround(tmp[y * width + x] * k[r]);
      for (let j = 1; j <= r; j++) {
        const a = tmp[reflect101Index(y - j, height) * width + x];
        const b = tmp[reflect101Index(y + j, height) * width + x];
        s = Math.fround(s + Math.fround(Math.fround(a + b) * k[r + j]));
      }
      out[y * width + x] = s;
    }
  }
  return out;
}

/** A 2-D kernel [kh, kw] (row-major) with its anchor at the centre. */
export interface Kernel2D {
  readonly data: Float64Array;
  readonly size: number; // square, odd
}

/**
 * The defocus kernel of make_cifar_c.py `disk(radius, alias_blur)`: a 0/1 disk X^2+Y^2 <= r^2 on L = -8..8
 * (or -r..r for r > 8) normalised in float32, then cv2.GaussianBlur with ksize 3 (5 for r > 8) and sigma alias_blur.
 */
export function diskKernel(radius: number, aliasBlur: number): Kernel2D {
  const half = radius <= 8 ? 8 : Math.trunc(radius);
  const ksize = radius <= 8 ? 3 : 5;
  const n = 2 * half + 1;
  const disk = new Float32Array(n * n);
  let count = 0;
  for (let y = -half; y <= half; y++) {
    for (let x = -half; x <= half; x++) {
      const inside = x * x + y * y <= radius * radius;
      disk[(y + half) * n + (x + half)] = inside ? 1 : 0;
      if (inside) count++;
    }
  }
  // NOTE: np.sum of 0/1 float32 values is exact, so dividing by the count is the same float32 division.
  for (let i = 0; i < disk.length; i++) disk[i] = Math.fround(disk[i] / count);
  const blurred = cvGaussianBlurF32(disk, n, n, ksize, aliasBlur);
  return { data: Float64Array.from(blurred), size: n };
}

/**
 * cv2.filter2D(plane, -1, kernel) for a float64 plane: correlation with the kernel anchored at its centre,
 * BORDER_REFLECT_101. Zero kernel entries are skipped (the disk kernels are mostly zeros).
 * NOTE: OpenCV evaluates kernels of 50+ taps through a DFT; the result equals this direct sum up to ~1e-16.
 */
export function filter2DReflect101(plane: Float64Array, height: number, width: number, kernel: Kernel2D): Float64Array {
  const n = kernel.size;
  const half = (n - 1) / 2;
  // Pad once (REFLECT_101) so the tap loop is plain indexing.
  const pw = width + 2 * half;
  const ph = height + 2 * half;
  const padded = new Float64Array(pw * ph);
  for (let y = 0; y < ph; y++) {
    const sy = reflect101Index(y - half, height) * width;
    for (let x = 0; x < pw; x++) padded[y * pw + x] = plane[sy + reflect101Index(x - half, width)];
  }
  const out = new Float64Array(plane.length);
  for (let ky = 0; ky < n; ky++) {
    for (let kx = 0; kx < n; kx++) {
      const w = kernel.data[ky * n + kx];
      if (w === 0) continue;
      for (let y = 0; y < height; y++) {
        const src = (y + ky) * pw + kx;
        const dst = y * width;
        for (let x = 0; x < width; x++) out[dst + x] += w * padded[src + x];
      }
    }
  }
  return out;
}
