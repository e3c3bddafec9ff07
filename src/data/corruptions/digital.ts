// "Digital" corruptions of make_cifar_c.py / make_imagenet_c.py on planar RGB uint8 images:
//   brightness:        skimage rgb2hsv, V = clip(V + c, 0, 1), hsv2rgb
//   contrast:          (x - mean) * c + mean, mean per channel over the image
//   elastic_transform: random affine (cv2.warpAffine) then a smooth random displacement (map_coordinates)
//   pixelate:          PIL BOX resize to int(size * c), then back
//   jpeg_compression:  PIL JPEG at quality c (see jpeg.ts)
import type { Rng } from "../../tensor/rng.js";
import { hsvToRgb, rgbToHsv } from "./color.js";
import { scipyGaussianFilter } from "./filters.js";
import { getAffineTransform, mapCoordinatesReflect, warpAffineReflect101 } from "./geometry.js";
import { toUnit, unitToUint8, unitToUint8F32 } from "./image.js";
import { pilResizeBox } from "./resize.js";

export function brightness(data: Uint8Array, height: number, width: number, c: number): Uint8Array {
  const plane = height * width;
  const x = toUnit(data);
  const hsv = new Float64Array(3);
  const rgb = new Float64Array(3);
  for (let i = 0; i < plane; i++) {
    rgbToHsv(x[i], x[plane + i], x[2 * plane + i], hsv);
    const v = Math.min(1, Math.max(0, hsv[2] + c));
    hsvToRgb(hsv[0], hsv[1], v, rgb);
    x[i] = rgb[0];
    x[plane + i] = rgb[1];
    x[2 * plane + i] = rgb[2];
  }
  return unitToUint8(x);
}

export function contrast(data: Uint8Array, height: number, width: number, c: number): Uint8Array {
  const plane = height * width;
  const x = toUnit(data);
  for (let ch = 0; ch < x.length / plane; ch++) {
    // NOTE: numpy reduces axes (0, 1) of an HWC array with a plain running sum per channel.
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += x[ch * plane + i];
    const mean = sum / plane;
    for (let i = 0; i < plane; i++) x[ch * plane + i] = (x[ch * plane + i] - mean) * c + mean;
  }
  return unitToUint8(x);
}

export type ElasticParams = readonly [alpha: number, sigma: number, affine: number];

/**
 * elastic_transform with its random inputs supplied: `jitter` = the 3x2 U(-affine, affine) draws (row-major),
 * `noiseX`, `noiseY` = H*W U(-1, 1) draws for dx and dy.
 */
export function elasticWith(data: Uint8Array, height: number, width: number, p: ElasticParams, jitter: ArrayLike<number>, noiseX: Float64Array, noiseY: Float64Array): Uint8Array {
  const [alpha, sigma] = p;
  const plane = height * width;
  const channels = data.length / plane;
  // image = np.array(image, dtype=np.float32) / 255.
  const img = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) img[i] = data[i] / 255;
  // center_square = np.float32(shape_size) // 2 (rows, cols), used as (x, y) points as upstream does.
  const c0 = Math.floor(height / 2);
  const c1 = Math.floor(width / 2);
  const s = Math.floor(Math.min(height, width) / 3);
  const pts1: [number, number][] = [
    [c0 + s, c1 + s],
    [c0 + s, c1 - s],
    [c0 - s, c1 - s],
  ];
  const pts2 = pts1.map(([a, b], k) => [Math.fround(a + Math.fround(jitter[2 * k])), Math.fround(b + Math.fround(jitter[2 * k + 1]))] as [number, number]);
  const m = getAffineTransform(pts1, pts2);
  const warped = new Float32Array(data.length);
  for (let ch = 0; ch < channels; ch++) {
    warped.set(warpAffineReflect101(img.subarray(ch * plane, (ch + 1) * plane), height, width, m), ch * plane);
  }
  const dx = scipyGaussianFilter(noiseX, height, width, sigma, "reflect", 3);
  const dy = scipyGaussianFilter(noiseY, height, width, sigma, "reflect", 3);
  const rows = new Float64Array(plane);
  const cols = new Float64Array(plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      rows[i] = y + Math.fround(dy[i] * alpha);
      cols[i] = x + Math.fround(dx[i] * alpha);
    }
  }
  const out = new Float32Array(data.length);
  for (let ch = 0; ch < channels; ch++) {
    out.set(mapCoordinatesReflect(warped.subarray(ch * plane, (ch + 1) * plane), height, width, rows, cols), ch * plane);
  }
  return unitToUint8F32(out);
}

export function elastic(data: Uint8Array, height: number, width: number, p: ElasticParams, rng: Rng): Uint8Array {
  const affine = p[2];
  const jitter = Array.from({ length: 6 }, () => rng.uniformIn(-affine, affine));
  const noiseX = new Float64Array(height * width);
  for (let i = 0; i < noiseX.length; i++) noiseX[i] = rng.uniformIn(-1, 1);
  const noiseY = new Float64Array(height * width);
  for (let i = 0; i < noiseY.length; i++) noiseY[i] = rng.uniformIn(-1, 1);
  return elasticWith(data, height, width, p, jitter, noiseX, noiseY);
}

export function pixelate(data: Uint8Array, height: number, width: number, c: number): Uint8Array {
  const plane = height * width;
  const sh = Math.trunc(height * c);
  const sw = Math.trunc(width * c);
  const out = new Uint8Array(data.length);
  for (let ch = 0; ch < data.length / plane; ch++) {
    const small = pilResizeBox(data.subarray(ch * plane, (ch + 1) * plane), height, width, sh, sw);
    out.set(pilResizeBox(small, sh, sw, height, width), ch * plane);
  }
  return out;
}

