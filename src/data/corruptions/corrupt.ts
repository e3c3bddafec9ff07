// The 15 ImageNet-C / CIFAR-10-C corruptions (Hendrycks & Dietterich, ICLR 2019; reference code
// hendrycks/robustness make_cifar_c.py and make_imagenet_c.py) on planar RGB uint8 images, with a typed
// registry in the standard order. Severity constants come from params.ts, chosen by image size
// (32x32 -> CIFAR table, 224x224 -> ImageNet table). Randomness comes from an Rng passed in.
// No file access (browser-safe): frost uses `opts.frost` or the procedural stand-in; index.ts adds `frostDir`.
import { Rng } from "../../tensor/rng.js";
import type { ImageSet } from "../cifar_format.js";
import { defocusBlur, glassBlur, motionBlur, zoomBlur } from "./blur.js";
import { brightness, contrast, elastic, pixelate } from "./digital.js";
import { frostCrop, proceduralFrostTextures, type FrostTextures } from "./frost_texture.js";
import { jpegJsRoundTrip, jpegRoundTrip } from "./jpeg.js";
import { gaussianNoise, impulseNoise, shotNoise } from "./noise.js";
import { numpyArange, severityParam, variantForSize, type Variant } from "./params.js";
import { fog, frostWith, snow } from "./weather.js";

/** The standard order of the continual protocol (zoa-method.md section 1). */
export const CORRUPTIONS = [
  "gaussian_noise",
  "shot_noise",
  "impulse_noise",
  "defocus_blur",
  "glass_blur",
  "motion_blur",
  "zoom_blur",
  "snow",
  "frost",
  "fog",
  "brightness",
  "contrast",
  "elastic_transform",
  "pixelate",
  "jpeg_compression",
] as const;

export type CorruptionName = (typeof CORRUPTIONS)[number];

export interface CorruptOptions {
  /** Severity table; default from the image size (32 -> "cifar", 224 -> "imagenet"). */
  variant?: Variant;
  /** Preloaded textures; without them the procedural stand-in is used. */
  frost?: FrostTextures;
  /** "libjpeg" (default): PIL/libjpeg-turbo's 4:2:0 pipeline; "jpeg-js": a real jpeg-js file (4:4:4). */
  jpegCodec?: "libjpeg" | "jpeg-js";
}

/** Everything a corruption function sees besides the pixels. */
interface Context {
  height: number;
  width: number;
  severity: number;
  variant: Variant;
  rng: Rng;
  opts: CorruptOptions;
}

type CorruptionFn = (data: Uint8Array, ctx: Context) => Uint8Array;

const IMPL: Record<CorruptionName, CorruptionFn> = {
  gaussian_noise: (d, c) => gaussianNoise(d, severityParam(c.variant, "gaussianNoise", c.severity), c.rng),
  shot_noise: (d, c) => shotNoise(d, severityParam(c.variant, "shotNoise", c.severity), c.rng),
  impulse_noise: (d, c) => impulseNoise(d, severityParam(c.variant, "impulseNoise", c.severity), c.rng),
  defocus_blur: (d, c) => {
    const [radius, alias] = severityParam(c.variant, "defocusBlur", c.severity);
    return defocusBlur(d, c.height, c.width, radius, alias);
  },
  glass_blur: (d, c) => {
    const [sigma, delta, iterations] = severityParam(c.variant, "glassBlur", c.severity);
    return glassBlur(d, c.height, c.width, sigma, delta, iterations, c.rng);
  },
  motion_blur: (d, c) => {
    const [radius, sigma] = severityParam(c.variant, "motionBlur", c.severity);
    return motionBlur(d, c.height, c.width, radius, sigma, c.rng);
  },
  zoom_blur: (d, c) => {
    const { stop, step } = severityParam(c.variant, "zoomBlur", c.severity);
    return zoomBlur(d, c.height, c.width, numpyArange(1, stop, step));
  },
  snow: (d, c) => snow(d, c.height, c.width, severityParam(c.variant, "snow", c.severity), c.rng),
  frost: (d, c) => {
    const [w0, w1] = severityParam(c.variant, "frost", c.severity);
    return frostWith(d, frostCrop(frostTexturesFor(c.variant, c.opts), c.height, c.width, c.rng), w0, w1);
  },
  fog: (d, c) => {
    const [amount, decay] = severityParam(c.variant, "fog", c.severity);
    return fog(d, c.height, c.width, amount, decay, c.rng);
  },
  brightness: (d, c) => brightness(d, c.height, c.width, severityParam(c.variant, "brightness", c.severity)),
  contrast: (d, c) => contrast(d, c.height, c.width, severityParam(c.variant, "contrast", c.severity)),
  elastic_transform: (d, c) => elastic(d, c.height, c.width, severityParam(c.variant, "elastic", c.severity), c.rng),
  pixelate: (d, c) => pixelate(d, c.height, c.width, severityParam(c.variant, "pixelate", c.severity)),
  jpeg_compression: (d, c) => {
    const q = severityParam(c.variant, "jpeg", c.severity);
    return c.opts.jpegCodec === "jpeg-js" ? jpegJsRoundTrip(d, c.height, c.width, q) : jpegRoundTrip(d, c.height, c.width, q);
  },
};

/** The textures frost will use under these options. */
export function frostTexturesFor(variant: Variant, opts: CorruptOptions = {}): FrostTextures {
  return opts.frost ?? proceduralFrostTextures(variant);
}

export function isCorruptionName(name: string): name is CorruptionName {
  return (CORRUPTIONS as readonly string[]).includes(name);
}

/**
 * Corrupts one planar RGB image [3, H, W] at severity 1..5.
 * @example corrupt("fog", img, 32, 32, 5, new Rng(0)) // -> Uint8Array(3072)
 */
export function corrupt(name: CorruptionName, image: Uint8Array, height: number, width: number, severity: number, rng: Rng, opts: CorruptOptions = {}): Uint8Array {
  const fn = IMPL[name];
  if (!fn) throw new RangeError(`unknown corruption '${name}' (valid: ${CORRUPTIONS.join(", ")})`);
  if (image.length !== 3 * height * width) {
    throw new RangeError(`corrupt(${name}): expected a planar RGB image of 3x${height}x${width} = ${3 * height * width} bytes, got ${image.length}`);
  }
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) throw new RangeError(`corrupt(${name}): severity must be 1..5, got ${severity}`);
  const variant = variantForSize(height, width, opts.variant);
  return fn(image, { height, width, severity, variant, rng, opts });
}

/**
 * The Rng of image `index` for (seed, corruption, severity): a fork of a generator keyed by the corruption and
 * severity, so an image's corruption never depends on batch boundaries or on the other images.
 */
export function imageRng(seed: number, name: CorruptionName, severity: number, index: number): Rng {
  const stream = (CORRUPTIONS.indexOf(name) + 1) * 16 + severity;
  return new Rng(seed, stream).fork(index);
}

/**
 * Corrupts every image of a set (labels kept). Image i uses imageRng(seed, name, severity, i + offset).
 * @example corruptSet(readCifar("test_batch.bin", 2000), "snow", 5, 0)
 */
export function corruptSet(set: ImageSet, name: CorruptionName, severity: number, seed: number, opts: CorruptOptions & { indexOffset?: number; onProgress?: (done: number) => void } = {}): ImageSet {
  if (set.channels !== 3) throw new RangeError(`corruptSet: corruptions need RGB images, got ${set.channels} channels`);
  const per = 3 * set.height * set.width;
  const images = new Uint8Array(set.count * per);
  const variant = variantForSize(set.height, set.width, opts.variant);
  const frost = name === "frost" ? frostTexturesFor(variant, opts) : undefined;
  const o: CorruptOptions = { ...opts, variant, frost };
  const offset = opts.indexOffset ?? 0;
  for (let i = 0; i < set.count; i++) {
    const img = set.images.subarray(i * per, (i + 1) * per);
    images.set(corrupt(name, img, set.height, set.width, severity, imageRng(seed, name, severity, i + offset), o), i * per);
    if (opts.onProgress && ((i + 1) % 256 === 0 || i + 1 === set.count)) opts.onProgress(i + 1);
  }
  return { images, labels: Uint8Array.from(set.labels.subarray(0, set.count)), count: set.count, channels: 3, height: set.height, width: set.width };
}

export { VARIANTS, type Variant } from "./params.js";
export type { FrostTexture, FrostTextures } from "./frost_texture.js";
