// Colour conversions of the libraries the reference calls, per pixel in float64:
// skimage.color.rgb2hsv / hsv2rgb (0.19: ties resolved red < green < blue, h = (h/6) % 1, s = 0 where delta = 0)
// and cv2.cvtColor(RGB2GRAY) on float32 (0.299 R + 0.587 G + 0.114 B in float32).

/** skimage rgb2hsv of one pixel (r, g, b in [0, 1]); writes [h, s, v] to out. */
export function rgbToHsv(r: number, g: number, b: number, out: Float64Array): void {
  const v = Math.max(r, g, b);
  const delta = v - Math.min(r, g, b);
  let s = delta / v;
  if (delta === 0) s = 0;
  let h = 0;
  // NOTE: skimage assigns red, then green, then blue; a later match overwrites an earlier one.
  if (r === v) h = (g - b) / delta;
  if (g === v) h = 2 + (b - r) / delta;
  if (b === v) h = 4 + (r - g) / delta;
  h = h / 6;
  // numpy's % follows the divisor's sign.
  let hm = h % 1;
  if (hm !== 0 && hm < 0) hm += 1;
  if (delta === 0) hm = 0;
  out[0] = Number.isNaN(hm) ? 0 : hm;
  out[1] = Number.isNaN(s) ? 0 : s;
  out[2] = v;
}

/** skimage hsv2rgb of one pixel; writes [r, g, b] to out. */
export function hsvToRgb(h: number, s: number, v: number, out: Float64Array): void {
  const hiF = Math.floor(h * 6);
  const f = h * 6 - hiF;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  // NOTE: skimage casts hi to uint8 before % 6; h is in [0, 1] so hi is 0..6.
  switch (((hiF % 6) + 6) % 6) {
    case 0:
      out[0] = v; out[1] = t; out[2] = p;
      break;
    case 1:
      out[0] = q; out[1] = v; out[2] = p;
      break;
    case 2:
      out[0] = p; out[1] = v; out[2] = t;
      break;
    case 3:
      out[0] = p; out[1] = q; out[2] = v;
      break;
    case 4:
      out[0] = t; out[1] = p; out[2] = v;
      break;
    default:
      out[0] = v; out[1] = p; out[2] = q;
  }
}

const R2Y = Math.fround(0.299);
const G2Y = Math.fround(0.587);
const B2Y = Math.fround(0.114);

/** cv2.cvtColor(x, COLOR_RGB2GRAY) for float32 r, g, b. */
export function rgbToGrayF32(r: number, g: number, b: number): number {
  return Math.fround(Math.fround(Math.fround(r * R2Y) + Math.fround(g * G2Y)) + Math.fround(b * B2Y));
}
