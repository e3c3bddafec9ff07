// Blur corruptions: structural facts, and equality with the reference libraries on the golden inputs
// (cv2.filter2D + GaussianBlur, scipy zoom, ImageMagick motion blur, skimage gaussian + the glass shuffle).
import { describe, expect, it } from "vitest";
import { defocusBlur, glassBlurWith, glassShuffle, zoomBlur } from "../../../src/data/corruptions/blur.js";
import { imageMagickMotionBlur } from "../../../src/data/corruptions/motion.js";
import { SEVERITY_TABLES, numpyArange } from "../../../src/data/corruptions/params.js";
import { MAX_GOLDEN_DIFF_FRACTION, MAX_GOLDEN_LEVEL_DIFF, MOTION_ANGLES, compareGolden, glassDeltas, goldenInput, goldenKeys, goldenSize } from "./goldens.js";

const VARIANTS = ["cifar", "imagenet"] as const;

function expectGolden(key: string, out: Uint8Array): void {
  const r = compareGolden(key, out);
  expect(r.maxDiff, key).toBeLessThanOrEqual(MAX_GOLDEN_LEVEL_DIFF);
  expect(r.differing / r.compared, key).toBeLessThanOrEqual(MAX_GOLDEN_DIFF_FRACTION);
}

describe("defocus_blur", () => {
  it("keeps a constant image constant (normalised kernel; float32 kernel error may truncate one level)", () => {
    for (const v of [0, 37, 128, 255]) {
      const out = defocusBlur(new Uint8Array(3 * 32 * 32).fill(v), 32, 32, 1.5, 0.1);
      const drops = Array.from(out, (o) => v - o);
      expect(Math.min(...drops)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...drops)).toBeLessThanOrEqual(1);
    }
  });

  it.each(VARIANTS)("matches cv2 on the %s golden input at severities 1..5", (variant) => {
    const size = goldenSize(variant);
    const img = goldenInput(variant);
    for (const key of goldenKeys(`${variant}/defocus_blur/`)) {
      const s = Number(key.split("/")[2]);
      const [radius, alias] = SEVERITY_TABLES[variant].defocusBlur[s - 1];
      expectGolden(key, defocusBlur(img, size, size, radius, alias));
    }
  });
});

describe("zoom_blur", () => {
  it("keeps a constant image constant", () => {
    for (const v of [0, 200, 255]) {
      const out = zoomBlur(new Uint8Array(3 * 32 * 32).fill(v), 32, 32, numpyArange(1, 1.26, 0.01));
      expect(out.every((o) => o === v)).toBe(true);
    }
  });

  it.each(VARIANTS)("matches scipy.ndimage.zoom on the %s golden input at severities 1..5", (variant) => {
    const size = goldenSize(variant);
    const img = goldenInput(variant);
    for (const key of goldenKeys(`${variant}/zoom_blur/`)) {
      const z = SEVERITY_TABLES[variant].zoomBlur[Number(key.split("/")[2]) - 1];
      expectGolden(key, zoomBlur(img, size, size, numpyArange(1, z.stop, z.step)));
    }
  });
});

describe("motion_blur (ImageMagick)", () => {
  it("reproduces ImageMagick 6.9.11's impulse and step responses (radius 6, sigma 2, angle 0)", () => {
    // Measured with Wand: one-sided kernel, Q16 rounding, then floor(q / 257) when writing 8 bits.
    const impulse = new Uint8Array(40);
    impulse[20] = 255;
    const out = imageMagickMotionBlur(impulse, 1, 1, 40, 6, 2, 0);
    expect(Array.from(out.subarray(14, 22))).toEqual([0, 3, 11, 27, 51, 74, 84, 0]);
    const step = new Uint8Array(40).fill(100).fill(200, 20);
    expect(Array.from(imageMagickMotionBlur(step, 1, 1, 40, 6, 2, 0).subarray(14, 21))).toEqual([100, 101, 106, 117, 137, 166, 200]);
  });

  it("blurs along the angle: 90 degrees moves the response to the column", () => {
    const img = new Uint8Array(40 * 40);
    img[20 * 40 + 20] = 255;
    const out = imageMagickMotionBlur(img, 1, 40, 40, 6, 2, 90);
    expect(out[19 * 40 + 20]).toBe(74);
    expect(out[20 * 40 + 19]).toBe(0);
  });

  it.each(VARIANTS)("matches Wand/ImageMagick on the %s golden input at severities 1..5", (variant) => {
    const size = goldenSize(variant);
    const img = goldenInput(variant);
    for (const key of goldenKeys(`${variant}/motion_blur/`)) {
      const s = Number(key.split("/")[2]);
      const [radius, sigma] = SEVERITY_TABLES[variant].motionBlur[s - 1];
      expectGolden(key, imageMagickMotionBlur(img, 3, size, size, radius, sigma, MOTION_ANGLES[s - 1]));
    }
  });
});

describe("glass_blur", () => {
  it("the 'swap' is a copy (numpy view aliasing): x[h,w] <- x[h',w'], x[h',w'] unchanged", () => {
    // 1 channel, 4x4, max_delta 1: loops h = 3..2, w = 3..2 (descending), always (dx, dy) = (-1, -1).
    const img = Uint8Array.from({ length: 16 }, (_, i) => i);
    glassShuffle(img, 4, 4, 1, 1, () => [-1, -1] as const);
    // Oracle written out by hand: (3,3)<-(2,2)=10, (3,2)<-(2,1)=9, (2,3)<-(1,2)=6, (2,2)<-(1,1)=5.
    expect(Array.from(img)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 5, 6, 12, 13, 9, 10]);
  });

  it.each(VARIANTS)("matches skimage + the reference loop on the %s golden input", (variant) => {
    const size = goldenSize(variant);
    const img = goldenInput(variant);
    for (const key of goldenKeys(`${variant}/glass_blur/`)) {
      const s = Number(key.split("/")[2]);
      const [sigma, d, iterations] = SEVERITY_TABLES[variant].glassBlur[s - 1];
      expectGolden(key, glassBlurWith(img, size, size, sigma, d, iterations, glassDeltas(1000 * s, d)));
    }
  });
});
