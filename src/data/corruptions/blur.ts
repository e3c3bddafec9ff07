// Blur corruptions of make_cifar_c.py / make_imagenet_c.py on planar RGB uint8 images:
//   defocus_blur: cv2.filter2D of x/255 with the anti-aliased disk kernel (BORDER_REFLECT_101)
//   glass_blur:   gaussian -> uint8 truncation -> local pixel "swaps" -> gaussian (see glassShuffle for the quirk)
//   motion_blur:  ImageMagick motion blur at an angle ~ U(-45, 45)
//   zoom_blur:    (x + sum_z clipped_zoom(x, z)) / (n + 1) in float32
import type { Rng } from "../../tensor/rng.js";
import { diskKernel, filter2DReflect101, scipyGaussianFilter } from "./filters.js";
import { applyClippedZoom, clippedZoomPlan } from "./geometry.js";
import { toUnit, unitToUint8, unitToUint8F32 } from "./image.js";
import { imageMagickMotionBlur } from "./motion.js";

export function defocusBlur(data: Uint8Array, height: number, width: number, radius: number, aliasBlur: number): Uint8Array {
  const kernel = diskKernel(radius, aliasBlur);
  const plane = height * width;
  const x = toUnit(data);
  const out = new Float64Array(x.length);
  for (let c = 0; c < x.length / plane; c++) {
    out.set(filter2DReflect101(x.subarray(c * plane, (c + 1) * plane), height, width, kernel), c * plane);
  }
  return unitToUint8(out);
}

/** skimage gaussian(x/255, sigma, multichannel=True) (mode 'nearest', truncate 4) of a uint8 image, per channel. */
function skimageGaussianUnit(data: Uint8Array, height: number, width: number, sigma: number): Float64Array {
  const plane = height * width;
  const x = toUnit(data);
  const out = new Float64Array(x.length);
  for (let c = 0; c < x.length / plane; c++) {
    out.set(scipyGaussianFilter(x.subarray(c * plane, (c + 1) * plane), height, width, sigma, "nearest", 4), c * plane);
  }
  return out;
}

/**
 * The "local shuffle" of glass_blur, in place on a planar uint8 image. Upstream writes
 * `x[h, w], x[h', w'] = x[h', w'], x[h, w]`; both right-hand sides are numpy views, so after the first store the
 * second copies x[h, w]'s new value back: the net effect is x[h, w] = x[h', w'] and x[h', w'] unchanged.
 * Loops run h = H-d .. d+1 and w = W-d .. d+1 (descending); (dx, dy) = randint(-d, d) twice, dx first.
 */
export function glassShuffle(img: Uint8Array, height: number, width: number, maxDelta: number, iterations: number, nextDelta: () => readonly [number, number]): void {
  const plane = height * width;
  const channels = img.length / plane;
  for (let it = 0; it < iterations; it++) {
    for (let h = height - maxDelta; h > maxDelta; h--) {
      for (let w = width - maxDelta; w > maxDelta; w--) {
        const [dx, dy] = nextDelta();
        const dst = h * width + w;
        const src = (h + dy) * width + (w + dx);
        for (let c = 0; c < channels; c++) img[c * plane + dst] = img[c * plane + src];
      }
    }
  }
}

/** glass_blur with the random offsets supplied (for tests against the reference). */
export function glassBlurWith(data: Uint8Array, height: number, width: number, sigma: number, maxDelta: number, iterations: number, nextDelta: () => readonly [number, number]): Uint8Array {
  const first = skimageGaussianUnit(data, height, width, sigma);
  // np.uint8(gaussian(...) * 255): no clip, values are already in [0, 1].
  const img = new Uint8Array(first.length);
  for (let i = 0; i < first.length; i++) img[i] = Math.min(255, Math.max(0, Math.floor(first[i] * 255)));
  glassShuffle(img, height, width, maxDelta, iterations, nextDelta);
  return unitToUint8(skimageGaussianUnit(img, height, width, sigma));
}

export function glassBlur(data: Uint8Array, height: number, width: number, sigma: number, maxDelta: number, iterations: number, rng: Rng): Uint8Array {
  return glassBlurWith(data, height, width, sigma, maxDelta, iterations, () => {
    const dx = rng.int(-maxDelta, maxDelta);
    const dy = rng.int(-maxDelta, maxDelta);
    return [dx, dy] as const;
  });
}

export function motionBlur(data: Uint8Array, height: number, width: number, radius: number, sigma: number, rng: Rng): Uint8Array {
  const angle = rng.uniformIn(-45, 45);
  return imageMagickMotionBlur(data, data.length / (height * width), height, width, radius, sigma, angle);
}

/** zoom_blur for the given zoom factors (float32 throughout, as upstream casts x to float32). */
export function zoomBlur(data: Uint8Array, height: number, width: number, zooms: readonly number[]): Uint8Array {
  const plane = height * width;
  const x = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) x[i] = data[i] / 255;
  const out = new Float32Array(data.length);
  // scipy returns float32 for float32 input: each zoomed plane is rounded before the float32 accumulation.
  const zoomed = new Float32Array(plane);
  for (const z of zooms) {
    const plan = clippedZoomPlan(height, width, z);
    for (let c = 0; c < data.length / plane; c++) {
      applyClippedZoom(x.subarray(c * plane, (c + 1) * plane), width, plan, zoomed);
      const acc = out.subarray(c * plane, (c + 1) * plane);
      for (let i = 0; i < plane; i++) acc[i] = acc[i] + zoomed[i];
    }
  }
  const n = zooms.length + 1;
  const res = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) res[i] = Math.fround(x[i] + out[i]) / n;
  return unitToUint8F32(res);
}
