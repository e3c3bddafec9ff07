// Severity constants of the 15 corruptions, copied from hendrycks/robustness (Apache-2.0):
// ImageNet-C/create_c/make_cifar_c.py (32x32, "cifar") and make_imagenet_c.py (224x224, "imagenet").
// Index 0..4 = severity 1..5. Expressions such as `32 * 0.08` are kept as in the source so the float values match.

export type Variant = "cifar" | "imagenet";
export const VARIANTS: readonly Variant[] = ["cifar", "imagenet"];

type Five<T> = readonly [T, T, T, T, T];

/** (zoom stop, zoom step) of `np.arange(1, stop, step)`. */
export interface ZoomRange {
  stop: number;
  step: number;
}

export interface SeverityTable {
  gaussianNoise: Five<number>; // std of N(0, c) added to x in [0,1]
  shotNoise: Five<number>; // poisson(x*c)/c
  impulseNoise: Five<number>; // s&p amount
  defocusBlur: Five<readonly [radius: number, aliasBlur: number]>;
  glassBlur: Five<readonly [sigma: number, maxDelta: number, iterations: number]>;
  motionBlur: Five<readonly [radius: number, sigma: number]>;
  zoomBlur: Five<ZoomRange>;
  snow: Five<readonly [loc: number, scale: number, zoom: number, threshold: number, radius: number, sigma: number, blend: number]>;
  frost: Five<readonly [imageWeight: number, frostWeight: number]>;
  fog: Five<readonly [amount: number, wibbleDecay: number]>;
  brightness: Five<number>; // added to V of HSV
  contrast: Five<number>; // deviation scale
  elastic: Five<readonly [alpha: number, sigma: number, affine: number]>;
  pixelate: Five<number>; // downscale factor
  jpeg: Five<number>; // quality
}

const CIFAR: SeverityTable = {
  gaussianNoise: [0.04, 0.06, 0.08, 0.09, 0.1],
  shotNoise: [500, 250, 100, 75, 50],
  impulseNoise: [0.01, 0.02, 0.03, 0.05, 0.07],
  defocusBlur: [
    [0.3, 0.4],
    [0.4, 0.5],
    [0.5, 0.6],
    [1, 0.2],
    [1.5, 0.1],
  ],
  glassBlur: [
    [0.05, 1, 1],
    [0.25, 1, 1],
    [0.4, 1, 1],
    [0.25, 1, 2],
    [0.4, 1, 2],
  ],
  motionBlur: [
    [6, 1],
    [6, 1.5],
    [6, 2],
    [8, 2],
    [9, 2.5],
  ],
  zoomBlur: [
    { stop: 1.06, step: 0.01 },
    { stop: 1.11, step: 0.01 },
    { stop: 1.16, step: 0.01 },
    { stop: 1.21, step: 0.01 },
    { stop: 1.26, step: 0.01 },
  ],
  snow: [
    [0.1, 0.2, 1, 0.6, 8, 3, 0.95],
    [0.1, 0.2, 1, 0.5, 10, 4, 0.9],
    [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9],
    [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85],
    [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8],
  ],
  frost: [
    [1, 0.2],
    [1, 0.3],
    [0.9, 0.4],
    [0.85, 0.4],
    [0.75, 0.45],
  ],
  fog: [
    [0.2, 3],
    [0.5, 3],
    [0.75, 2.5],
    [1, 2],
    [1.5, 1.75],
  ],
  brightness: [0.05, 0.1, 0.15, 0.2, 0.3],
  contrast: [0.75, 0.5, 0.4, 0.3, 0.15],
  elastic: [
    [32 * 0, 32 * 0, 32 * 0.08],
    [32 * 0.05, 32 * 0.2, 32 * 0.07],
    [32 * 0.08, 32 * 0.06, 32 * 0.06],
    [32 * 0.1, 32 * 0.04, 32 * 0.05],
    [32 * 0.1, 32 * 0.03, 32 * 0.03],
  ],
  pixelate: [0.95, 0.9, 0.85, 0.75, 0.65],
  jpeg: [80, 65, 58, 50, 40],
};

const IMAGENET: SeverityTable = {
  gaussianNoise: [0.08, 0.12, 0.18, 0.26, 0.38],
  shotNoise: [60, 25, 12, 5, 3],
  impulseNoise: [0.03, 0.06, 0.09, 0.17, 0.27],
  defocusBlur: [
    [3, 0.1],
    [4, 0.5],
    [6, 0.5],
    [8, 0.5],
    [10, 0.5],
  ],
  glassBlur: [
    [0.7, 1, 2],
    [0.9, 2, 1],
    [1, 2, 3],
    [1.1, 3, 2],
    [1.5, 4, 2],
  ],
  motionBlur: [
    [10, 3],
    [15, 5],
    [15, 8],
    [15, 12],
    [20, 15],
  ],
  zoomBlur: [
    { stop: 1.11, step: 0.01 },
    { stop: 1.16, step: 0.01 },
    { stop: 1.21, step: 0.02 },
    { stop: 1.26, step: 0.02 },
    { stop: 1.31, step: 0.03 },
  ],
  snow: [
    [0.1, 0.3, 3, 0.5, 10, 4, 0.8],
    [0.2, 0.3, 2, 0.5, 12, 4, 0.7],
    [0.55, 0.3, 4, 0.9, 12, 8, 0.7],
    [0.55, 0.3, 4.5, 0.85, 12, 8, 0.65],
    [0.55, 0.3, 2.5, 0.85, 12, 12, 0.55],
  ],
  frost: [
    [1, 0.4],
    [0.8, 0.6],
    [0.7, 0.7],
    [0.65, 0.7],
    [0.6, 0.75],
  ],
  fog: [
    [1.5, 2],
    [2, 2],
    [2.5, 1.7],
    [2.5, 1.5],
    [3, 1.4],
  ],
  brightness: [0.1, 0.2, 0.3, 0.4, 0.5],
  contrast: [0.4, 0.3, 0.2, 0.1, 0.05],
  // NOTE: upstream writes 244 where 224 was meant ("ultimately nothing is incorrect"); kept as is.
  elastic: [
    [244 * 2, 244 * 0.7, 244 * 0.1],
    [244 * 2, 244 * 0.08, 244 * 0.2],
    [244 * 0.05, 244 * 0.01, 244 * 0.02],
    [244 * 0.07, 244 * 0.01, 244 * 0.02],
    [244 * 0.12, 244 * 0.01, 244 * 0.02],
  ],
  pixelate: [0.6, 0.5, 0.4, 0.3, 0.25],
  jpeg: [25, 18, 15, 10, 7],
};

export const SEVERITY_TABLES: Readonly<Record<Variant, SeverityTable>> = { cifar: CIFAR, imagenet: IMAGENET };

/** The constants of one corruption at severity 1..5 (checked). */
export function severityParam<K extends keyof SeverityTable>(variant: Variant, key: K, severity: number): SeverityTable[K][number] {
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) {
    throw new RangeError(`severity must be an integer 1..5, got ${severity}`);
  }
  return SEVERITY_TABLES[variant][key][severity - 1];
}

/**
 * The reference variant for an image size: 32x32 -> cifar, 224x224 -> imagenet. Other sizes need an explicit
 * variant (the reference only defines these two).
 */
export function variantForSize(height: number, width: number, explicit?: Variant): Variant {
  if (explicit !== undefined) return explicit;
  if (height === 32 && width === 32) return "cifar";
  if (height === 224 && width === 224) return "imagenet";
  throw new RangeError(
    `corruptions: no reference constants for ${height}x${width} images (32x32 uses the CIFAR table, 224x224 the ImageNet table); pass opts.variant to choose one`,
  );
}

/**
 * `np.arange(start, stop, step)` for floats, value for value: length ceil((stop-start)/step), then
 * numpy's fill: delta = (start + step) - start, a[i] = start + i*delta.
 */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(i === 0 ? start : i === 1 ? start + step : start + i * delta);
  return out;
}
