// Digital corruptions: independent oracles (max channel for HSV value, per-channel means, block constancy,
// a real JPEG file through jpeg-js) and the reference-library goldens (skimage, PIL, libjpeg-turbo, cv2+scipy).
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { brightness, contrast, elasticWith, pixelate } from "../../../src/data/corruptions/digital.js";
import { jpegJsRoundTrip, jpegRoundTrip, quantTable } from "../../../src/data/corruptions/jpeg.js";
import { SEVERITY_TABLES } from "../../../src/data/corruptions/params.js";
import { syntheticImage } from "../synthetic.js";
import { MAX_GOLDEN_DIFF_FRACTION, MAX_GOLDEN_LEVEL_DIFF, compareGolden, goldenInput, goldenKeys, goldenSize, uniformStream } from "./goldens.js";

const VARIANTS = ["cifar", "imagenet"] as const;

function expectGolden(key: string, out: Uint8Array): void {
  const r = compareGolden(key, out);
  expect(r.maxDiff, key).toBeLessThanOrEqual(MAX_GOLDEN_LEVEL_DIFF);
  expect(r.differing / r.compared, key).toBeLessThanOrEqual(MAX_GOLDEN_DIFF_FRACTION);
}

/** Mid-range image (no clipping under contrast): values 40..215. */
function midImage(h: number, w: number): Uint8Array {
  return syntheticImage(h, w).map((v) => 40 + Math.floor((v * 175) / 255));
}

describe("brightness", () => {
  it("raises V = max(R, G, B) by c (clipped at 1), hue and saturation kept", () => {
    const img = syntheticImage(32, 32);
    const plane = 1024;
    for (const c of [0.05, 0.3, 0.5]) {
      const out = brightness(img, 32, 32, c);
      for (let i = 0; i < plane; i++) {
        const vin = Math.max(img[i], img[plane + i], img[2 * plane + i]) / 255;
        const vout = Math.max(out[i], out[plane + i], out[2 * plane + i]) / 255;
        // Independent oracle: V' = min(1, V + c); the output truncates, so at most 1/255 below.
        const want = Math.min(1, vin + c);
        expect(vout).toBeLessThanOrEqual(want + 1e-9);
        expect(vout).toBeGreaterThanOrEqual(want - 1 / 255 - 1e-9);
        // Saturation (max-min)/max is scale invariant: channels scale together.
        if (vin > 0.1 && want < 1) {
          const sIn = (vin - Math.min(img[i], img[plane + i], img[2 * plane + i]) / 255) / vin;
          const sOut = (vout - Math.min(out[i], out[plane + i], out[2 * plane + i]) / 255) / vout;
          expect(Math.abs(sIn - sOut)).toBeLessThan(0.03);
        }
      }
    }
  });
});

describe("contrast", () => {
  it("keeps each channel's mean and scales deviations by c", () => {
    const img = midImage(32, 32);
    const plane = 1024;
    for (const c of [0.75, 0.15, 0.05]) {
      const out = contrast(img, 32, 32, c);
      for (let ch = 0; ch < 3; ch++) {
        let mi = 0;
        let mo = 0;
        for (let i = 0; i < plane; i++) (mi += img[ch * plane + i]), (mo += out[ch * plane + i]);
        mi /= plane;
        mo /= plane;
        // Truncation lowers the mean by about 0.5.
        expect(Math.abs(mo - (mi - 0.5))).toBeLessThan(0.6);
        for (let i = 0; i < plane; i++) {
          expect(Math.abs(out[ch * plane + i] - ((img[ch * plane + i] - mi) * c + mi))).toBeLessThanOrEqual(1);
        }
      }
    }
  });
});

describe("pixelate", () => {
  it("with factor 0.5 (ImageNet severity 2) gives constant 2x2 blocks", () => {
    const img = syntheticImage(224, 224);
    const out = pixelate(img, 224, 224, 0.5);
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < 224; y += 2) {
        for (let x = 0; x < 224; x += 2) {
          const o = ch * 224 * 224 + y * 224 + x;
          const v = out[o];
          expect([out[o + 1], out[o + 224], out[o + 225]]).toEqual([v, v, v]);
        }
      }
    }
  });

  it("keeps a constant image constant", () => {
    expect(pixelate(new Uint8Array(3 * 32 * 32).fill(77), 32, 32, 0.65).every((v) => v === 77)).toBe(true);
  });
});

describe("jpeg_compression", () => {
  it("jpeg-js path: writes a JPEG file that decodes, and the round trip differs from the input", () => {
    const img = syntheticImage(32, 32);
    const plane = 1024;
    const rgba = new Uint8Array(plane * 4);
    for (let i = 0; i < plane; i++) (rgba[4 * i] = img[i]), (rgba[4 * i + 1] = img[plane + i]), (rgba[4 * i + 2] = img[2 * plane + i]), (rgba[4 * i + 3] = 255);
    const file = jpeg.encode({ data: rgba, width: 32, height: 32 }, 40);
    expect(file.data[0]).toBe(0xff);
    expect(file.data[1]).toBe(0xd8);
    const back = jpegJsRoundTrip(img, 32, 32, 40);
    expect(back.length).toBe(img.length);
    let d = 0;
    for (let i = 0; i < img.length; i++) d += Math.abs(back[i] - img[i]);
    expect(d / img.length).toBeGreaterThan(1);
  });

  it("libjpeg pipeline: lower quality changes the image more", () => {
    const img = syntheticImage(32, 32);
    const err = (q: number) => {
      const out = jpegRoundTrip(img, 32, 32, q);
      let d = 0;
      for (let i = 0; i < img.length; i++) d += Math.abs(out[i] - img[i]);
      return d / img.length;
    };
    expect(err(80)).toBeGreaterThan(0.5);
    expect(err(40)).toBeGreaterThan(err(80));
    expect(err(7)).toBeGreaterThan(err(40));
  });

  it("scales the IJG tables like jpeg_set_quality(force_baseline)", () => {
    expect(quantTable([16, 99, 121], 50).subarray(0, 3)).toEqual(Int32Array.from([16, 99, 121]));
    expect(quantTable([16, 99, 121], 80).subarray(0, 3)).toEqual(Int32Array.from([6, 40, 48]));
    expect(quantTable([16, 99, 121], 7).subarray(0, 3)).toEqual(Int32Array.from([114, 255, 255]));
  });

  it.each(VARIANTS)("matches PIL (libjpeg-turbo) on the %s golden input at severities 1..5", (variant) => {
    const size = goldenSize(variant);
    const img = goldenInput(variant);
    for (const key of goldenKeys(`${variant}/jpeg_compression/`)) {
      expectGolden(key, jpegRoundTrip(img, size, size, SEVERITY_TABLES[variant].jpeg[Number(key.split("/")[2]) - 1]));
    }
  });

  it("matches PIL on a 21x37 image (partial MCUs, odd chroma size)", () => {
    const img = syntheticImage(21, 37);
    for (const q of [58, 7]) expectGolden(`cifar/odd21x37/jpeg_compression/q${q}`, jpegRoundTrip(img, 21, 37, q));
  });
});

describe("elastic_transform", () => {
  it("with zero displacement and no affine jitter is the identity (up to the float32 x/255*255 round trip)", () => {
    const img = syntheticImage(32, 32);
    const zeros = new Float64Array(1024);
    const out = elasticWith(img, 32, 32, [0, 1, 0], [0, 0, 0, 0, 0, 0], zeros, zeros);
    const drops = Array.from(img, (v, i) => v - out[i]);
    expect(Math.min(...drops)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...drops)).toBeLessThanOrEqual(1);
  });

  it("a pure translation of the affine points shifts the image", () => {
    const img = syntheticImage(32, 32);
    const zeros = new Float64Array(1024);
    // All three points moved by +2 in x: M translates by 2 columns; output(x) = input(x - 2).
    const out = elasticWith(img, 32, 32, [0, 1, 0], [2, 0, 2, 0, 2, 0], zeros, zeros);
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 2; x < 32; x++) {
          const a = out[ch * 1024 + y * 32 + x];
          const b = img[ch * 1024 + y * 32 + x - 2];
          expect(Math.abs(a - b)).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it.each(VARIANTS)("matches cv2.warpAffine + skimage gaussian + scipy map_coordinates on the %s golden input", (variant) => {
    const size = goldenSize(variant);
    const img = goldenInput(variant);
    for (const key of goldenKeys(`${variant}/elastic_transform/`)) {
      const s = Number(key.split("/")[2]);
      const p = SEVERITY_TABLES[variant].elastic[s - 1];
      const u = uniformStream(2000 * s);
      const jitter = Array.from({ length: 6 }, () => (u() * 2 - 1) * p[2]);
      const nx = Float64Array.from({ length: size * size }, () => u() * 2 - 1);
      const ny = Float64Array.from({ length: size * size }, () => u() * 2 - 1);
      expectGolden(key, elasticWith(img, size, size, p, jitter, nx, ny));
    }
  });
});

describe.each(VARIANTS)("brightness / contrast / pixelate goldens (%s)", (variant) => {
  const size = goldenSize(variant);
  const img = goldenInput(variant);
  const T = SEVERITY_TABLES[variant];
  it("brightness matches skimage rgb2hsv/hsv2rgb", () => {
    for (const key of goldenKeys(`${variant}/brightness/`)) expectGolden(key, brightness(img, size, size, T.brightness[Number(key.split("/")[2]) - 1]));
  });
  it("contrast matches numpy", () => {
    for (const key of goldenKeys(`${variant}/contrast/`)) expectGolden(key, contrast(img, size, size, T.contrast[Number(key.split("/")[2]) - 1]));
  });
  it("pixelate matches PIL BOX resizes", () => {
    for (const key of goldenKeys(`${variant}/pixelate/`)) expectGolden(key, pixelate(img, size, size, T.pixelate[Number(key.split("/")[2]) - 1]));
  });
});
