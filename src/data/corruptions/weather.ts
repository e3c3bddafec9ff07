// Weather corruptions of make_cifar_c.py / make_imagenet_c.py on planar RGB uint8 images:
//   snow:  a thresholded, zoomed N(loc, scale) layer, motion-blurred by ImageMagick (angle ~ U(-135, -45)),
//          added twice (as is and rotated 180 degrees) to a brightened, greyed image
//   frost: clip(c0 * x + c1 * frost_crop), textures frost1..frost5 (see frost_texture.ts)
//   fog:   x + c0 * plasma, rescaled by max/(max + c0)
import type { Rng } from "../../tensor/rng.js";
import { rgbToGrayF32 } from "./color.js";
import { clippedZoom } from "./geometry.js";
import { byteRangeToUint8, toUnit, unitToUint8 } from "./image.js";
import { imageMagickMotionBlur } from "./motion.js";
import { plasmaFractal } from "./plasma.js";

export type SnowParams = readonly [loc: number, scale: number, zoom: number, threshold: number, radius: number, sigma: number, blend: number];

/** The snow layer after zoom, threshold, uint8 cast and motion blur, as floats in [0, 1] (one plane [H, W]). */
export function snowLayer(normals: Float64Array, height: number, width: number, p: SnowParams, angle: number): Float64Array {
  const [loc, scale, zoom, threshold, radius, sigma] = p;
  const layer = new Float64Array(height * width);
  for (let i = 0; i < layer.length; i++) layer[i] = loc + scale * normals[i];
  const zoomed = clippedZoom(layer, height, width, zoom);
  const bytes = new Uint8Array(zoomed.length);
  for (let i = 0; i < zoomed.length; i++) {
    const v = zoomed[i] < threshold ? 0 : zoomed[i];
    bytes[i] = v >= 1 ? 255 : v > 0 ? Math.floor(v * 255) : 0;
  }
  const blurred = imageMagickMotionBlur(bytes, 1, height, width, radius, sigma, angle);
  const out = new Float64Array(blurred.length);
  for (let i = 0; i < blurred.length; i++) out[i] = blurred[i] / 255;
  return out;
}

/** snow with its random inputs supplied: `normals` are H*W standard normal draws, `angle` in degrees. */
export function snowWith(data: Uint8Array, height: number, width: number, p: SnowParams, normals: Float64Array, angle: number): Uint8Array {
  const plane = height * width;
  const layer = snowLayer(normals, height, width, p, angle);
  const blend = Math.fround(p[6]);
  const rest = Math.fround(1 - p[6]);
  const out = new Float64Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      // x = np.array(img, float32) / 255: float32 values.
      const r = Math.fround(data[i] / 255);
      const g = Math.fround(data[plane + i] / 255);
      const b = Math.fround(data[2 * plane + i] / 255);
      const lifted = Math.fround(Math.fround(rgbToGrayF32(r, g, b) * 1.5) + 0.5);
      const flake = layer[i];
      const flakeRot = layer[(height - 1 - y) * width + (width - 1 - x)]; // np.rot90(layer, k=2)
      const rgb = [r, g, b];
      for (let c = 0; c < 3; c++) {
        const v = rgb[c];
        const mixed = Math.fround(Math.fround(blend * v) + Math.fround(rest * Math.max(v, lifted)));
        out[c * plane + i] = mixed + flake + flakeRot;
      }
    }
  }
  return unitToUint8(out);
}

export function snow(data: Uint8Array, height: number, width: number, p: SnowParams, rng: Rng): Uint8Array {
  const normals = new Float64Array(height * width);
  for (let i = 0; i < normals.length; i++) normals[i] = rng.normal();
  const angle = rng.uniformIn(-135, -45);
  return snowWith(data, height, width, p, normals, angle);
}

/** frost's blend with a texture crop already chosen ([3, H, W] uint8, RGB). */
export function frostWith(data: Uint8Array, crop: Uint8Array, imageWeight: number, frostWeight: number): Uint8Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = imageWeight * data[i] + frostWeight * crop[i];
  return byteRangeToUint8(out);
}

/** fog with the plasma map supplied (mapsize x mapsize, mapsize >= H, W; the top-left H x W is used). */
export function fogWith(data: Uint8Array, height: number, width: number, amount: number, plasma: Float64Array, mapsize: number): Uint8Array {
  const plane = height * width;
  const x = toUnit(data);
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  const denom = max + amount;
  for (let c = 0; c < x.length / plane; c++) {
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < width; xx++) {
        const i = c * plane + y * width + xx;
        x[i] = ((x[i] + amount * plasma[y * mapsize + xx]) * max) / denom;
      }
    }
  }
  return unitToUint8(x);
}

/** The plasma map size the reference uses: 32 for CIFAR, 256 for ImageNet (next power of two >= the image). */
export function plasmaSize(height: number, width: number): number {
  let n = 2;
  while (n < Math.max(height, width)) n *= 2;
  return n;
}

export function fog(data: Uint8Array, height: number, width: number, amount: number, wibbleDecay: number, rng: Rng): Uint8Array {
  const size = plasmaSize(height, width);
  const plasma = plasmaFractal(size, wibbleDecay, () => rng.uniform());
  return fogWith(data, height, width, amount, plasma, size);
}
