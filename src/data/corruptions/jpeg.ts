// JPEG compression as PIL does it (Image.save('JPEG', quality=q) then decode), computed without a bitstream:
// the entropy coding is lossless, so the round trip is libjpeg(-turbo)'s lossy pipeline, reproduced in integer
// arithmetic: RGB->YCbCr (jccolor.c, 16-bit tables), 4:2:0 chroma downsampling (jcsample.c h2v2, bias 1,2,1,2),
// islow forward DCT (jfdctint.c), quantisation with libjpeg-turbo's reciprocals (jcdctmgr.c) and the IJG tables
// scaled by jpeg_set_quality(q, force_baseline=TRUE), dequantisation + islow inverse DCT (jidctint.c),
// "fancy" triangular chroma upsampling (jdsample.c h2v2_fancy_upsample) and YCbCr->RGB (jdcolor.c).
// `jpegJsRoundTrip` is the alternative through jpeg-js (a real file, but 4:4:4 and a float DCT).
import jpeg from "jpeg-js";

const LUMA_QT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109,
  103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_QT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/** jpeg_set_quality(quality, force_baseline=TRUE): the scaled quantisation table (natural order). */
export function quantTable(base: readonly number[], quality: number): Int32Array {
  const q = Math.min(100, Math.max(1, Math.trunc(quality)));
  const scale = q < 50 ? Math.trunc(5000 / q) : 200 - q * 2;
  const out = new Int32Array(64);
  for (let i = 0; i < 64; i++) {
    let t = Math.trunc((base[i] * scale + 50) / 100);
    if (t <= 0) t = 1;
    if (t > 255) t = 255;
    out[i] = t;
  }
  return out;
}

/** libjpeg-turbo compute_reciprocal for a 16-bit DCTELEM (SIMD builds): divisor = quantval << 3. */
interface Divisor {
  recip: number;
  corr: number;
  shift: number; // total right shift r
}
function reciprocal(divisor: number): Divisor {
  if (divisor === 1) return { recip: 1, corr: 0, shift: 0 };
  const b = Math.floor(Math.log2(divisor));
  let r = 16 + b;
  let fq = Math.floor(2 ** r / divisor);
  const fr = 2 ** r - fq * divisor;
  let c = Math.floor(divisor / 2);
  if (fr === 0) {
    fq = Math.floor(fq / 2);
    r--;
  } else if (fr <= Math.floor(divisor / 2)) {
    c++;
  } else {
    fq++;
  }
  return { recip: fq, corr: c, shift: r };
}

const CONST_BITS = 13;
const PASS1_BITS = 2;
const F_0_298 = 2446;
const F_0_390 = 3196;
const F_0_541 = 4433;
const F_0_765 = 6270;
const F_0_899 = 7373;
const F_1_175 = 9633;
const F_1_501 = 12299;
const F_1_847 = 15137;
const F_1_961 = 16069;
const F_2_053 = 16819;
const F_2_562 = 20995;
const F_3_072 = 25172;

/** DESCALE(x, n) = (x + 2^(n-1)) >> n, arithmetic, on exact integers up to 2^53. */
function descale(x: number, n: number): number {
  return Math.floor((x + 2 ** (n - 1)) / 2 ** n);
}

/** jpeg_fdct_islow in place on a block of centred samples [64]; output scaled up by 8. */
function fdctIslow(d: Float64Array): void {
  for (let pass = 0; pass < 2; pass++) {
    const stride = pass === 0 ? 1 : 8; // element step inside a row (pass 0) or column (pass 1)
    const step = pass === 0 ? 8 : 1; // step between rows / columns
    for (let k = 0; k < 8; k++) {
      const o = k * step;
      const at = (i: number): number => d[o + i * stride];
      const tmp0 = at(0) + at(7);
      const tmp7 = at(0) - at(7);
      const tmp1 = at(1) + at(6);
      const tmp6 = at(1) - at(6);
      const tmp2 = at(2) + at(5);
      const tmp5 = at(2) - at(5);
      const tmp3 = at(3) + at(4);
      const tmp4 = at(3) - at(4);
      const tmp10 = tmp0 + tmp3;
      const tmp13 = tmp0 - tmp3;
      const tmp11 = tmp1 + tmp2;
      const tmp12 = tmp1 - tmp2;
      const evenShift = pass === 0 ? CONST_BITS - PASS1_BITS : CONST_BITS + PASS1_BITS;
      if (pass === 0) {
        d[o] = (tmp10 + tmp11) * (1 << PASS1_BITS);
        d[o + 4 * stride] = (tmp10 - tmp11) * (1 << PASS1_BITS);
      } else {
        d[o] = descale(tmp10 + tmp11, PASS1_BITS);
        d[o + 4 * stride] = descale(tmp10 - tmp11, PASS1_BITS);
      }
      const z1e = (tmp12 + tmp13) * F_0_541;
      d[o + 2 * stride] = descale(z1e + tmp13 * F_0_765, evenShift);
      d[o + 6 * stride] = descale(z1e + tmp12 * -F_1_847, evenShift);
      const z1 = tmp4 + tmp7;
      const z2 = tmp5 + tmp6;
      let z3 = tmp4 + tmp6;
      let z4 = tmp5 + tmp7;
      const z5 = (z3 + z4) * F_1_175;
      const t4 = tmp4 * F_0_298;
      const t5 = tmp5 * F_2_053;
      const t6 = tmp6 * F_3_072;
      const t7 = tmp7 * F_1_501;
      const m1 = z1 * -F_0_899;
      const m2 = z2 * -F_2_562;
      z3 = z3 * -F_1_961 + z5;
      z4 = z4 * -F_0_390 + z5;
      d[o + 7 * stride] = descale(t4 + m1 + z3, evenShift);
      d[o + 5 * stride] = descale(t5 + m2 + z4, evenShift);
      d[o + 3 * stride] = descale(t6 + m2 + z3, evenShift);
      d[o + 1 * stride] = descale(t7 + m1 + z4, evenShift);
    }
  }
}

/** jpeg_idct_islow: dequantised coefficients [64] -> samples 0..255 written to out[offset + y*stride + x]. */
function idctIslow(coef: Float64Array, out: Uint8Array, offset: number, stride: number): void {
  const ws = new Float64Array(64);
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < 8; k++) {
      // pass 0: column k of coef -> column k of ws; pass 1: row k of ws -> row k of out.
      const at = pass === 0 ? (i: number): number => coef[i * 8 + k] : (i: number): number => ws[k * 8 + i];
      const z2e = at(2);
      const z3e = at(6);
      const z1e = (z2e + z3e) * F_0_541;
      const tmp2e = z1e + z3e * -F_1_847;
      const tmp3e = z1e + z2e * F_0_765;
      const tmp0e = (at(0) + at(4)) * 2 ** CONST_BITS;
      const tmp1e = (at(0) - at(4)) * 2 ** CONST_BITS;
      const tmp10 = tmp0e + tmp3e;
      const tmp13 = tmp0e - tmp3e;
      const tmp11 = tmp1e + tmp2e;
      const tmp12 = tmp1e - tmp2e;
      let tmp3 = at(1);
      let tmp2 = at(3);
      let tmp1 = at(5);
      let tmp0 = at(7);
      const z4a = tmp1 + tmp3;
      const z3a = tmp0 + tmp2;
      const z2a = tmp1 + tmp2;
      const z1a = tmp0 + tmp3;
      const z5 = (z3a + z4a) * F_1_175;
      tmp3 *= F_1_501;
      tmp2 *= F_3_072;
      tmp1 *= F_2_053;
      tmp0 *= F_0_298;
      const z4 = z4a * -F_0_390 + z5;
      const z3 = z3a * -F_1_961 + z5;
      const z1 = z1a * -F_0_899;
      const z2 = z2a * -F_2_562;
      tmp3 += z1 + z4;
      tmp2 += z2 + z3;
      tmp1 += z2 + z4;
      tmp0 += z1 + z3;
      const vals = [tmp10 + tmp3, tmp11 + tmp2, tmp12 + tmp1, tmp13 + tmp0, tmp13 - tmp0, tmp12 - tmp1, tmp11 - tmp2, tmp10 - tmp3];
      if (pass === 0) {
        for (let i = 0; i < 8; i++) ws[i * 8 + k] = descale(vals[i], CONST_BITS - PASS1_BITS);
      } else {
        for (let i = 0; i < 8; i++) out[offset + k * stride + i] = rangeLimit(descale(vals[i], CONST_BITS + PASS1_BITS + 3));
      }
    }
  }
}

/** libjpeg's range_limit[(x) & RANGE_MASK] with the centre offset: 10-bit wrap, then clamp(x + 128). */
function rangeLimit(x: number): number {
  let v = x & 1023;
  if (v >= 512) v -= 1024;
  v += 128;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Compress + decompress one component plane [ph, pw] (multiples of 8) block by block, in place. */
function codePlane(plane: Uint8Array, ph: number, pw: number, qt: Int32Array): void {
  const divisors = Array.from(qt, (q) => reciprocal(q * 8));
  const block = new Float64Array(64);
  const deq = new Float64Array(64);
  for (let by = 0; by < ph; by += 8) {
    for (let bx = 0; bx < pw; bx += 8) {
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(by + y) * pw + bx + x] - 128;
      fdctIslow(block);
      for (let i = 0; i < 64; i++) {
        const t = block[i];
        const dv = divisors[i];
        const mag = Math.floor(((Math.abs(t) + dv.corr) * dv.recip) / 2 ** dv.shift);
        const q = t < 0 ? -mag : mag;
        deq[i] = q * qt[i];
      }
      idctIslow(deq, plane, by * pw + bx, pw);
    }
  }
}

const FIX = (x: number): number => Math.trunc(x * 65536 + 0.5);
const ONE_HALF = 1 << 15;

/**
 * PIL's JPEG round trip (quality q, default 4:2:0) of a planar RGB uint8 image [3, H, W], reproduced from
 * libjpeg-turbo's integer pipeline.
 */
export function jpegRoundTrip(data: Uint8Array, height: number, width: number, quality: number): Uint8Array {
  const plane = height * width;
  const ph = Math.ceil(height / 16) * 16;
  const pw = Math.ceil(width / 16) * 16;
  // RGB -> YCbCr on the edge-replicated padded grid (libjpeg pads by repeating the last column / row).
  const Y = new Uint8Array(ph * pw);
  const Cb = new Uint8Array(ph * pw);
  const Cr = new Uint8Array(ph * pw);
  for (let y = 0; y < ph; y++) {
    const sy = Math.min(y, height - 1);
    for (let x = 0; x < pw; x++) {
      const i = sy * width + Math.min(x, width - 1);
      const r = data[i];
      const g = data[plane + i];
      const b = data[2 * plane + i];
      const o = y * pw + x;
      Y[o] = (FIX(0.299) * r + FIX(0.587) * g + FIX(0.114) * b + ONE_HALF) >> 16;
      Cb[o] = (-FIX(0.16874) * r - FIX(0.33126) * g + FIX(0.5) * b + (128 << 16) + ONE_HALF - 1) >> 16;
      Cr[o] = (FIX(0.5) * r - FIX(0.41869) * g - FIX(0.08131) * b + (128 << 16) + ONE_HALF - 1) >> 16;
    }
  }
  // h2v2 downsampling: (a + b + c + d + bias) >> 2, bias 1, 2, 1, 2, ... along each output row.
  const ch = ph / 2;
  const cw = pw / 2;
  const down = (src: Uint8Array): Uint8Array => {
    const out = new Uint8Array(ch * cw);
    for (let y = 0; y < ch; y++) {
      let bias = 1;
      for (let x = 0; x < cw; x++) {
        const a = (2 * y) * pw + 2 * x;
        out[y * cw + x] = (src[a] + src[a + 1] + src[a + pw] + src[a + pw + 1] + bias) >> 2;
        bias ^= 3;
      }
    }
    return out;
  };
  const cb = down(Cb);
  const cr = down(Cr);
  const lumaQ = quantTable(LUMA_QT, quality);
  const chromaQ = quantTable(CHROMA_QT, quality);
  codePlane(Y, ph, pw, lumaQ);
  codePlane(cb, ch, cw, chromaQ);
  codePlane(cr, ch, cw, chromaQ);
  // Decoder side: upsample chroma over the real downsampled size, then YCbCr -> RGB.
  const dh = Math.ceil(height / 2);
  const dw = Math.ceil(width / 2);
  const cbUp = upsampleH2V2(cb, cw, dh, dw);
  const crUp = upsampleH2V2(cr, cw, dh, dw);
  const out = new Uint8Array(3 * plane);
  const upW = 2 * dw;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const yy = Y[y * pw + x];
      const cbv = cbUp[y * upW + x] - 128;
      const crv = crUp[y * upW + x] - 128;
      const rOff = (FIX(1.402) * crv + ONE_HALF) >> 16;
      const bOff = (FIX(1.772) * cbv + ONE_HALF) >> 16;
      const gOff = (-FIX(0.34414) * cbv + ONE_HALF + -FIX(0.71414) * crv) >> 16;
      const i = y * width + x;
      out[i] = clamp255(yy + rOff);
      out[plane + i] = clamp255(yy + gOff);
      out[2 * plane + i] = clamp255(yy + bOff);
    }
  }
  return out;
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * jdsample.c h2v2_fancy_upsample of the visible chroma [dh, dw] (stored with row stride `stride`): each output is
 * 9/16, 3/16, 3/16, 1/16 of the nearest input samples, rows above/below the image repeat the edge row.
 * Widths <= 2 use plain replication, as libjpeg does.
 */
function upsampleH2V2(src: Uint8Array, stride: number, dh: number, dw: number): Uint8Array {
  const ow = 2 * dw;
  const out = new Uint8Array(2 * dh * ow);
  for (let inrow = 0; inrow < dh; inrow++) {
    for (let v = 0; v < 2; v++) {
      const near = inrow * stride;
      const farRow = v === 0 ? Math.max(inrow - 1, 0) : Math.min(inrow + 1, dh - 1);
      const far = farRow * stride;
      const o = (2 * inrow + v) * ow;
      if (dw <= 2) {
        for (let x = 0; x < dw; x++) out[o + 2 * x] = out[o + 2 * x + 1] = src[near + x];
        continue;
      }
      let thiscolsum = src[near] * 3 + src[far];
      let nextcolsum = src[near + 1] * 3 + src[far + 1];
      out[o] = (thiscolsum * 4 + 8) >> 4;
      out[o + 1] = (thiscolsum * 3 + nextcolsum + 7) >> 4;
      let lastcolsum = thiscolsum;
      thiscolsum = nextcolsum;
      for (let x = 2; x < dw; x++) {
        nextcolsum = src[near + x] * 3 + src[far + x];
        out[o + 2 * (x - 1)] = (thiscolsum * 3 + lastcolsum + 8) >> 4;
        out[o + 2 * (x - 1) + 1] = (thiscolsum * 3 + nextcolsum + 7) >> 4;
        lastcolsum = thiscolsum;
        thiscolsum = nextcolsum;
      }
      out[o + 2 * (dw - 1)] = (thiscolsum * 3 + lastcolsum + 8) >> 4;
      out[o + 2 * (dw - 1) + 1] = (thiscolsum * 4 + 7) >> 4;
    }
  }
  return out;
}

/** JPEG round trip through jpeg-js (encode at `quality`, decode): a real file, but 4:4:4 and a float DCT. */
export function jpegJsRoundTrip(data: Uint8Array, height: number, width: number, quality: number): Uint8Array {
  const plane = height * width;
  const rgba = new Uint8Array(plane * 4);
  for (let i = 0; i < plane; i++) {
    rgba[4 * i] = data[i];
    rgba[4 * i + 1] = data[plane + i];
    rgba[4 * i + 2] = data[2 * plane + i];
    rgba[4 * i + 3] = 255;
  }
  const file = jpeg.encode({ data: rgba, width, height }, quality);
  const decoded = jpeg.decode(file.data, { useTArray: true, formatAsRGBA: true });
  const out = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = decoded.data[4 * i];
    out[plane + i] = decoded.data[4 * i + 1];
    out[2 * plane + i] = decoded.data[4 * i + 2];
  }
  return out;
}
