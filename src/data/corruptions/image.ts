// Shared pixel helpers for the corruptions: planar RGB images, float conversion and the reference's
// output cast. Every reference function returns floats in 0..255 that `np.uint8(...)` TRUNCATES (floor for
// values in [0, 256)), after an np.clip to [0, 1] (or [0, 255]).

/** A planar image: data is [C, H, W] row-major. */
export interface PlanarImage {
  readonly data: Uint8Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** x / 255 as float64, [C, H, W]. */
export function toUnit(data: Uint8Array): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
  return out;
}

/** `np.uint8(np.clip(x, 0, 1) * 255)` for float64 x. */
export function unitToUint8(x: Float64Array | Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    // NOTE: NaN compares false everywhere and ends up 0, like the cast of a NaN in practice.
    out[i] = v >= 1 ? 255 : v > 0 ? Math.floor(v * 255) : 0;
  }
  return out;
}

/** `np.uint8(np.clip(x, 0, 1) * 255)` for float32 x: the product is rounded to float32 before the cast. */
export function unitToUint8F32(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v >= 1 ? 255 : v > 0 ? Math.floor(Math.fround(v * 255)) : 0;
  }
  return out;
}

/** `np.uint8(np.clip(x, 0, 255))` for float64 x already in 0..255. */
export function byteRangeToUint8(x: Float64Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v >= 255 ? 255 : v > 0 ? Math.floor(v) : 0;
  }
  return out;
}

/** Python's round() (half to even), used by scipy for output shapes. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Index into [0, n) with a half-sample symmetric extension (scipy 'reflect'; d c b a | a b c d | d c b a). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - 1 - k;
}

/** Index into [0, n) with a whole-sample symmetric extension (OpenCV BORDER_REFLECT_101; d c b | a b c d | c b a). */
export function reflect101Index(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - k;
}

/** Index clamped to [0, n) (scipy 'nearest', ImageMagick edge virtual pixels). */
export function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}
