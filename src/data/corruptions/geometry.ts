// Geometric resampling as the reference calls it:
// - scipy.ndimage.zoom(order=1) inside make_cifar_c.py's clipped_zoom (centre crop, zoom, centre trim);
// - scipy.ndimage.map_coordinates(order=1, mode='reflect') for elastic_transform;
// - cv2.getAffineTransform + cv2.warpAffine(INTER_LINEAR, BORDER_REFLECT_101) with OpenCV's 1/32-pixel grid.
// Interpolation weights follow scipy's get_spline_interpolation_weights: w0 = 1 - t, w1 = 1 - w0.
import { clampIndex, reflect101Index, reflectIndex, roundHalfEven } from "./image.js";

/** Per-output-index taps of a 1-D linear interpolation: source indices and weights. */
interface LinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
}

/** scipy zoom (grid_mode=False) along one axis: cc = o * (n-1)/(m-1); taps floor(cc), floor(cc)+1 (clamped). */
function zoomTaps(n: number, m: number): LinearTaps {
  const zoom = m > 1 ? (n - 1) / (m - 1) : 1;
  const t: LinearTaps = { i0: new Int32Array(m), i1: new Int32Array(m), w0: new Float64Array(m), w1: new Float64Array(m) };
  for (let o = 0; o < m; o++) {
    const cc = o * zoom;
    const start = Math.floor(cc);
    const frac = cc - start;
    t.w0[o] = 1 - frac;
    t.w1[o] = 1 - t.w0[o];
    // NOTE: the second tap can fall one past the edge with a weight of 0 (or ~1e-16): clamp it.
    t.i0[o] = clampIndex(start, n);
    t.i1[o] = clampIndex(start + 1, n);
  }
  return t;
}

/** Precomputed taps of clipped_zoom for one (size, zoom): source rows / columns in the uncropped plane. */
export interface ClippedZoomPlan {
  readonly rows: LinearTaps;
  readonly cols: LinearTaps;
}

const planCache = new Map<string, ClippedZoomPlan>();

/**
 * make_cifar_c.py `clipped_zoom(img, z)`: ch = ceil(h/z) (h = rows, also used for the columns as upstream
 * does), top = (h-ch)//2, scipy-zoom the ch x ch centre crop by z, keep h x w from trim = (zoomed-h)//2.
 * Returned as taps into the original plane (cached per size and zoom).
 */
export function clippedZoomPlan(height: number, width: number, zoom: number): ClippedZoomPlan {
  const key = `${height}x${width}@${zoom}`;
  const hit = planCache.get(key);
  if (hit) return hit;
  const ch = Math.ceil(height / zoom);
  const top = Math.floor((height - ch) / 2);
  const zoomed = roundHalfEven(ch * zoom);
  const trim = Math.floor((zoomed - height) / 2);
  const shift = (t: LinearTaps, n: number): LinearTaps => ({
    i0: Int32Array.from({ length: n }, (_, o) => t.i0[o + trim] + top),
    i1: Int32Array.from({ length: n }, (_, o) => t.i1[o + trim] + top),
    w0: Float64Array.from({ length: n }, (_, o) => t.w0[o + trim]),
    w1: Float64Array.from({ length: n }, (_, o) => t.w1[o + trim]),
  });
  const taps = zoomTaps(ch, zoomed);
  if (zoomed - trim < Math.max(height, width)) throw new RangeError(`clipped_zoom: zoom ${zoom} leaves fewer than ${height} pixels`);
  const plan = { rows: shift(taps, height), cols: shift(taps, width) };
  planCache.set(key, plan);
  return plan;
}

/** clipped_zoom of one plane through a plan (the same sums as scipyZoom on the crop). */
export function applyClippedZoom(plane: Float64Array | Float32Array, width: number, plan: ClippedZoomPlan, out: Float64Array | Float32Array): void {
  const { rows, cols } = plan;
  const oh = rows.i0.length;
  const ow = cols.i0.length;
  for (let y = 0; y < oh; y++) {
    const r0 = rows.i0[y] * width;
    const r1 = rows.i1[y] * width;
    const wy0 = rows.w0[y];
    const wy1 = rows.w1[y];
    for (let x = 0; x < ow; x++) {
      const c0 = cols.i0[x];
      const c1 = cols.i1[x];
      const wx0 = cols.w0[x];
      const wx1 = cols.w1[x];
      let acc = plane[r0 + c0] * wy0 * wx0;
      acc += plane[r0 + c1] * wy0 * wx1;
      acc += plane[r1 + c0] * wy1 * wx0;
      acc += plane[r1 + c1] * wy1 * wx1;
      out[y * ow + x] = acc;
    }
  }
}

/** clipped_zoom of one plane [h, w] (float64 result). */
export function clippedZoom(plane: Float64Array | Float32Array, height: number, width: number, zoom: number): Float64Array {
  const out = new Float64Array(height * width);
  applyClippedZoom(plane, width, clippedZoomPlan(height, width, zoom), out);
  return out;
}

/**
 * `scipy.ndimage.map_coordinates(plane, [rows, cols], order=1, mode='reflect')` for one plane: bilinear on the
 * half-sample symmetric extension. Output rounded to float32, like the float32 input the reference passes.
 */
export function mapCoordinatesReflect(plane: Float32Array, height: number, width: number, rows: Float64Array, cols: Float64Array): Float32Array {
  const out = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const cy = rows[i];
    const cx = cols[i];
    const y0 = Math.floor(cy);
    const x0 = Math.floor(cx);
    const wy0 = 1 - (cy - y0);
    const wy1 = 1 - wy0;
    const wx0 = 1 - (cx - x0);
    const wx1 = 1 - wx0;
    const r0 = reflectIndex(y0, height) * width;
    const r1 = reflectIndex(y0 + 1, height) * width;
    const c0 = reflectIndex(x0, width);
    const c1 = reflectIndex(x0 + 1, width);
    let acc = plane[r0 + c0] * wy0 * wx0;
    acc += plane[r0 + c1] * wy0 * wx1;
    acc += plane[r1 + c0] * wy1 * wx0;
    acc += plane[r1 + c1] * wy1 * wx1;
    out[i] = acc;
  }
  return out;
}

/** A 2x3 affine matrix [a b c; d e f] mapping (x, y) -> (a x + b y + c, d x + e y + f). */
export type Affine = [number, number, number, number, number, number];

/** cv2.getAffineTransform(src, dst) for three (x, y) point pairs: solves dst = M [x y 1]^T (double, partial pivoting). */
export function getAffineTransform(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): Affine {
  const a = src.map(([x, y]) => [x, y, 1]);
  const solve3 = (b: number[]): number[] => {
    const m = a.map((row, i) => [...row, b[i]]);
    for (let col = 0; col < 3; col++) {
      let piv = col;
      for (let r = col + 1; r < 3; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
      if (m[piv][col] === 0) throw new RangeError("getAffineTransform: the source points are collinear");
      [m[col], m[piv]] = [m[piv], m[col]];
      for (let r = col + 1; r < 3; r++) {
        const f = m[r][col] / m[col][col];
        for (let c = col; c < 4; c++) m[r][c] -= f * m[col][c];
      }
    }
    const x = [0, 0, 0];
    for (let r = 2; r >= 0; r--) {
      let s = m[r][3];
      for (let c = r + 1; c < 3; c++) s -= m[r][c] * x[c];
      x[r] = s / m[r][r];
    }
    return x;
  };
  const [p, q, r] = solve3(dst.map((d) => d[0]));
  const [s, t, u] = solve3(dst.map((d) => d[1]));
  return [p, q, r, s, t, u];
}

/** cv2.invertAffineTransform. */
export function invertAffine(m: Affine): Affine {
  let d = m[0] * m[4] - m[1] * m[3];
  d = d !== 0 ? 1 / d : 0;
  const a11 = m[4] * d;
  const a22 = m[0] * d;
  const a12 = -m[1] * d;
  const a21 = -m[3] * d;
  const b1 = -a11 * m[2] - a12 * m[5];
  const b2 = -a21 * m[2] - a22 * m[5];
  return [a11, a12, b1, a21, a22, b2];
}

const INTER_BITS = 5;
const INTER_TAB_SIZE = 1 << INTER_BITS;
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;

/** C's saturate_cast<int>(double): round half to even. */
function cvRound(x: number): number {
  return roundHalfEven(x);
}

/**
 * cv2.warpAffine(plane, M, (w, h), flags=INTER_LINEAR, borderMode=BORDER_REFLECT_101) for a float32 plane.
 * Source positions are computed in OpenCV's fixed point (AB_BITS = 10) and snapped to 1/32 pixel; the four
 * weights are float32 products of (1 - f, f) from the 32-entry table, and the sum is float32.
 */
export function warpAffineReflect101(plane: Float32Array, height: number, width: number, m: Affine): Float32Array {
  const inv = invertAffine(m);
  const out = new Float32Array(height * width);
  const adelta = new Int32Array(width);
  const bdelta = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    adelta[x] = cvRound(inv[0] * x * AB_SCALE);
    bdelta[x] = cvRound(inv[3] * x * AB_SCALE);
  }
  const roundDelta = AB_SCALE / INTER_TAB_SIZE / 2;
  const tab = new Float32Array(INTER_TAB_SIZE);
  for (let i = 0; i < INTER_TAB_SIZE; i++) tab[i] = i / INTER_TAB_SIZE;
  for (let y = 0; y < height; y++) {
    const x0 = cvRound((inv[1] * y + inv[2]) * AB_SCALE) + roundDelta;
    const y0 = cvRound((inv[4] * y + inv[5]) * AB_SCALE) + roundDelta;
    for (let x = 0; x < width; x++) {
      const X = (x0 + adelta[x]) >> (AB_BITS - INTER_BITS);
      const Y = (y0 + bdelta[x]) >> (AB_BITS - INTER_BITS);
      const sx = X >> INTER_BITS;
      const sy = Y >> INTER_BITS;
      const fx = tab[X & (INTER_TAB_SIZE - 1)];
      const fy = tab[Y & (INTER_TAB_SIZE - 1)];
      const ax0 = Math.fround(1 - fx);
      const ay0 = Math.fround(1 - fy);
      const w00 = Math.fround(ay0 * ax0);
      const w01 = Math.fround(ay0 * fx);
      const w10 = Math.fround(fy * ax0);
      const w11 = Math.fround(fy * fx);
      const cx0 = reflect101Index(sx, width);
      const cx1 = reflect101Index(sx + 1, width);
      const ry0 = reflect101Index(sy, height) * width;
      const ry1 = reflect101Index(sy + 1, height) * width;
      let acc = Math.fround(plane[ry0 + cx0] * w00);
      acc = Math.fround(acc + Math.fround(plane[ry0 + cx1] * w01));
      acc = Math.fround(acc + Math.fround(plane[ry1 + cx0] * w10));
      acc = Math.fround(acc + Math.fround(plane[ry1 + cx1] * w11));
      out[y * width + x] = acc;
    }
  }
  return out;
}
