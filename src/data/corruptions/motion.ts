// ImageMagick's MotionBlurImage (MagickCore effect.c, IM 6.9 / 7; what Wand's MagickMotionBlurImage runs), which
// make_cifar_c.py applies to a PNG of the image (motion_blur) and of the snow layer (snow):
//   width  = GetOptimalKernelWidth1D(radius, sigma) = 2*ceil(radius) + 1   (radius > 0)
//   k[i]   = exp(-i^2 / (2 sigma^2)) / (sqrt(2 pi) sigma), i = 0..width-1, normalised   (one-sided: no i < 0)
//   offset = (ceil(i*cos(a) - 0.5), ceil(i*sin(a) - 0.5))   as IM computes it from point = width*(sin a, cos a)
//   out(x, y) = sum_i k[i] * in(x + ox[i], y + oy[i]), pixels outside the image repeat the edge (IM's default
//   virtual-pixel method), accumulated in Q16 (v8 * 257) and rounded by ClampToQuantum.
// Writing the 8-bit PNG then TRUNCATES: floor(q / 257). Measured with ImageMagick 6.9.11-60 Q16 (non-HDRI, the
// Debian 12 / Ubuntu 22.04 build that Wand loads) on impulse and step images: a Q16 value of 21797 (84.8 levels)
// comes back as 84. The PNG round trip itself is lossless.

/** GetOptimalKernelWidth1D for radius > 0. */
export function motionKernelWidth(radius: number): number {
  if (!(radius > 0)) throw new RangeError(`motion blur: radius must be > 0 (got ${radius})`);
  return 2 * Math.ceil(radius) + 1;
}

/** The normalised one-sided Gaussian kernel and the integer pixel offsets along the blur direction. */
export function motionKernel(radius: number, sigma: number, angleDeg: number): { weights: Float64Array; dx: Int32Array; dy: Int32Array } {
  const width = motionKernelWidth(radius);
  const s = Math.abs(sigma) < 1e-12 ? 1e-12 : sigma;
  const weights = new Float64Array(width);
  let normalize = 0;
  for (let i = 0; i < width; i++) {
    weights[i] = Math.exp(-(i * i) / (2 * s * s)) / (Math.sqrt(2 * Math.PI) * s);
    normalize += weights[i];
  }
  for (let i = 0; i < width; i++) weights[i] /= normalize;
  const rad = (Math.PI * angleDeg) / 180;
  const px = width * Math.sin(rad);
  const py = width * Math.cos(rad);
  const len = Math.hypot(px, py);
  const dx = new Int32Array(width);
  const dy = new Int32Array(width);
  for (let i = 0; i < width; i++) {
    dx[i] = Math.ceil((i * py) / len - 0.5);
    dy[i] = Math.ceil((i * px) / len - 0.5);
  }
  return { weights, dx, dy };
}

/** Q16 -> 8-bit as the measured PNG writer does it: floor(q / 257). */
function quantumToChar(q: number): number {
  return Math.floor(q / 257);
}

/**
 * ImageMagick motion blur of a planar uint8 image [C, H, W] (every channel alike), angle in degrees
 * (0 = blur towards +x, 90 = towards +y, image coordinates).
 */
export function imageMagickMotionBlur(data: Uint8Array, channels: number, height: number, width: number, radius: number, sigma: number, angleDeg: number): Uint8Array {
  const { weights, dx, dy } = motionKernel(radius, sigma, angleDeg);
  const n = weights.length;
  const plane = height * width;
  const out = new Uint8Array(data.length);
  const QUANTUM_RANGE = 65535;
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          let sx = x + dx[i];
          let sy = y + dy[i];
          sx = sx < 0 ? 0 : sx >= width ? width - 1 : sx;
          sy = sy < 0 ? 0 : sy >= height ? height - 1 : sy;
          acc += weights[i] * (data[base + sy * width + sx] * 257);
        }
        // ClampToQuantum (Q16, non-HDRI): round half up inside [0, QuantumRange].
        const q = acc <= 0 ? 0 : acc >= QUANTUM_RANGE ? QUANTUM_RANGE : Math.floor(acc + 0.5);
        out[base + y * width + x] = quantumToChar(q);
      }
    }
  }
  return out;
}
