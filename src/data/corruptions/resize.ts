// Image resizing as the reference libraries do it, on uint8 planes:
// - PIL Image.resize(size, Image.BOX) (Pillow libImaging/Resample.c): box filter coefficients, 22-bit fixed
//   point, horizontal pass then vertical pass with a uint8 image in between (used by pixelate).
// - cv2.resize(fx, fy, INTER_LINEAR) for uint8: half-pixel centres, 11-bit coefficients (used by frost).
// - a plain bilinear resize (half-pixel centres, float) for the ImageFolder reader.

const PRECISION_BITS = 32 - 8 - 2;

interface ResampleCoeffs {
  bounds: Int32Array; // [out, 2]: xmin, count
  kk: Int32Array; // [out, ksize] fixed-point weights
  ksize: number;
}

/** Pillow precompute_coeffs + normalize_coeffs_8bpc for the BOX filter (support 0.5). */
function boxCoeffs(inSize: number, outSize: number): ResampleCoeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 0.5 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const ss = 1 / filterscale;
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    for (let x = 0; x < xmax; x++) {
      const arg = (x + xmin - center + 0.5) * ss;
      const w = arg > -0.5 && arg <= 0.5 ? 1 : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : k[x];
      const scaled = v * (1 << PRECISION_BITS);
      kk[xx * ksize + x] = Math.trunc(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

function clip8(v: number): number {
  if (v >= 1 << (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / (1 << PRECISION_BITS));
}

/** PIL `img.resize((outW, outH), Image.BOX)` of one uint8 plane [h, w]. */
export function pilResizeBox(plane: Uint8Array, height: number, width: number, outHeight: number, outWidth: number): Uint8Array {
  const needH = outWidth !== width;
  const needV = outHeight !== height;
  let cur = plane;
  let curW = width;
  if (needH) {
    const c = boxCoeffs(width, outWidth);
    const tmp = new Uint8Array(height * outWidth);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = c.bounds[xx * 2];
        const xmax = c.bounds[xx * 2 + 1];
        let ss = 1 << (PRECISION_BITS - 1);
        for (let x = 0; x < xmax; x++) ss += plane[y * width + x + xmin] * c.kk[xx * c.ksize + x];
        tmp[y * outWidth + xx] = clip8(ss);
      }
    }
    cur = tmp;
    curW = outWidth;
  }
  if (!needV) return needH ? cur : Uint8Array.from(cur);
  const c = boxCoeffs(height, outHeight);
  const out = new Uint8Array(outHeight * curW);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = c.bounds[yy * 2];
    const ymax = c.bounds[yy * 2 + 1];
    for (let x = 0; x < curW; x++) {
      let ss = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < ymax; y++) ss += cur[(y + ymin) * curW + x] * c.kk[yy * c.ksize + y];
      out[yy * curW + x] = clip8(ss);
    }
  }
  return out;
}

const RESIZE_COEF_BITS = 11;
const RESIZE_COEF_SCALE = 1 << RESIZE_COEF_BITS;

/** Per-output source index and 11-bit weight pair of cv2's INTER_LINEAR (scalar path). */
function cvLinearTaps(inSize: number, outSize: number, scale: number): { i0: Int32Array; i1: Int32Array; a0: Int32Array; a1: Int32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const a0 = new Int32Array(outSize);
  const a1 = new Int32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    // NOTE: OpenCV keeps this fraction in float32.
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) {
      f = 0;
      s = 0;
    }
    if (s >= inSize - 1) {
      f = 0;
      s = inSize - 1;
    }
    const w0 = Math.round(Math.fround(1 - f) * RESIZE_COEF_SCALE);
    i0[d] = s;
    i1[d] = Math.min(s + 1, inSize - 1);
    a0[d] = w0;
    a1[d] = RESIZE_COEF_SCALE - w0;
  }
  return { i0, i1, a0, a1 };
}

/**
 * `cv2.resize(img, (0, 0), fx=f, fy=f)` (INTER_LINEAR) of one uint8 plane: output size round(w*f) x round(h*f),
 * source position (d + 0.5)/f - 0.5, weights in 11-bit fixed point, the vertical pass rounded with 22 bits.
 * With f = 0.2 every position is an integer (5d + 2), so the result is an exact subsample.
 */
export function cvResizeLinear(plane: Uint8Array, height: number, width: number, factor: number): { data: Uint8Array; height: number; width: number } {
  const outW = Math.round(width * factor);
  const outH = Math.round(height * factor);
  const scale = 1 / factor;
  const tx = cvLinearTaps(width, outW, scale);
  const ty = cvLinearTaps(height, outH, scale);
  const rows = new Int32Array(height * outW);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outW; x++) {
      rows[y * outW + x] = plane[y * width + tx.i0[x]] * tx.a0[x] + plane[y * width + tx.i1[x]] * tx.a1[x];
    }
  }
  const out = new Uint8Array(outH * outW);
  const bits = 2 * RESIZE_COEF_BITS;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const v = rows[ty.i0[y] * outW + x] * ty.a0[y] + rows[ty.i1[y] * outW + x] * ty.a1[y];
      out[y * outW + x] = Math.min(255, Math.max(0, Math.floor((v + (1 << (bits - 1))) / (1 << bits))));
    }
  }
  return { data: out, height: outH, width: outW };
}

/** Plain bilinear resize of one uint8 plane (half-pixel centres, edge clamp, rounded). */
export function bilinearResize(plane: Uint8Array, height: number, width: number, outHeight: number, outWidth: number): Uint8Array {
  const out = new Uint8Array(outHeight * outWidth);
  const sy = height / outHeight;
  const sx = width / outWidth;
  for (let y = 0; y < outHeight; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const ty = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const tx = fx - x0;
      const top = plane[y0 * width + x0] * (1 - tx) + plane[y0 * width + x1] * tx;
      const bot = plane[y1 * width + x0] * (1 - tx) + plane[y1 * width + x1] * tx;
      out[y * outWidth + x] = Math.round(top * (1 - ty) + bot * ty);
    }
  }
  return out;
}
