// The registry: standard order, determinism per seed, per-image independence of batch boundaries, the
// ImageNet-size variant, and the errors.
import { describe, expect, it } from "vitest";
import { CORRUPTIONS, corrupt, corruptSet, imageRng, isCorruptionName } from "../../../src/data/corruptions/index.js";
import type { ImageSet } from "../../../src/data/cifar.js";
import { Rng } from "../../../src/tensor/rng.js";
import { syntheticImage } from "../synthetic.js";

/** Corruptions with no random draws: the seed cannot change their output. */
const DETERMINISTIC = new Set(["defocus_blur", "zoom_blur", "brightness", "contrast", "pixelate", "jpeg_compression"]);

function tinySet(n: number): ImageSet {
  const images = new Uint8Array(n * 3072);
  for (let i = 0; i < n; i++) {
    const img = syntheticImage(32, 32);
    // Vary the images a little so they are not all equal.
    for (let k = 0; k < img.length; k++) images[i * 3072 + k] = (img[k] + 17 * i) & 255;
  }
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n, channels: 3, height: 32, width: 32 };
}

describe("CORRUPTIONS", () => {
  it("lists the 15 corruptions in the standard order of the continual protocol", () => {
    expect(CORRUPTIONS).toEqual([
      "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
      "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression",
    ]);
    expect(isCorruptionName("fog")).toBe(true);
    expect(isCorruptionName("speckle_noise")).toBe(false);
  });
});

describe.each(CORRUPTIONS)("%s", (name) => {
  const img = syntheticImage(32, 32);
  it("same seed -> identical bytes; another seed -> other bytes (when it draws random numbers)", () => {
    for (const s of [3, 5]) {
      const a = corrupt(name, img, 32, 32, s, new Rng(11));
      const b = corrupt(name, img, 32, 32, s, new Rng(11));
      const c = corrupt(name, img, 32, 32, s, new Rng(12));
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(a).equals(Buffer.from(c))).toBe(DETERMINISTIC.has(name));
      expect(Buffer.from(a).equals(Buffer.from(img))).toBe(false);
    }
  });

  it("runs the ImageNet (224x224) constants on a 224x224 image", () => {
    const big = syntheticImage(224, 224);
    const out = corrupt(name, big, 224, 224, 5, new Rng(1));
    expect(out.length).toBe(big.length);
    let d = 0;
    for (let i = 0; i < big.length; i++) d += Math.abs(out[i] - big[i]);
    expect(d / big.length).toBeGreaterThan(0.5);
  });
});

describe("corruptSet", () => {
  it("gives each image its own stream: results do not depend on where a batch starts", () => {
    const set = tinySet(6);
    for (const name of ["gaussian_noise", "glass_blur", "frost"] as const) {
      const whole = corruptSet(set, name, 5, 42);
      const tail: ImageSet = { ...set, images: set.images.subarray(3 * 3072), labels: set.labels.subarray(3), count: 3 };
      const part = corruptSet(tail, name, 5, 42, { indexOffset: 3 });
      expect(Buffer.from(part.images).equals(Buffer.from(whole.images.subarray(3 * 3072)))).toBe(true);
      expect(Array.from(whole.labels)).toEqual(Array.from(set.labels));
    }
  });

  it("keys the streams by seed, corruption, severity and index", () => {
    const a = imageRng(0, "fog", 5, 0).nextU32();
    expect(imageRng(0, "fog", 5, 0).nextU32()).toBe(a);
    expect(imageRng(1, "fog", 5, 0).nextU32()).not.toBe(a);
    expect(imageRng(0, "snow", 5, 0).nextU32()).not.toBe(a);
    expect(imageRng(0, "fog", 4, 0).nextU32()).not.toBe(a);
    expect(imageRng(0, "fog", 5, 1).nextU32()).not.toBe(a);
  });
});

describe("errors", () => {
  it("refuses unknown names, bad severities, wrong buffer sizes and sizes without constants", () => {
    const img = syntheticImage(32, 32);
    expect(() => corrupt("nope" as never, img, 32, 32, 5, new Rng(0))).toThrow(/unknown corruption 'nope'.*gaussian_noise/);
    expect(() => corrupt("fog", img, 32, 32, 6, new Rng(0))).toThrow(/severity must be 1..5/);
    expect(() => corrupt("fog", img.subarray(1), 32, 32, 5, new Rng(0))).toThrow(/3x32x32/);
    const odd = syntheticImage(40, 40);
    expect(() => corrupt("fog", odd, 40, 40, 5, new Rng(0))).toThrow(/no reference constants for 40x40/);
    expect(corrupt("contrast", odd, 40, 40, 5, new Rng(0), { variant: "cifar" }).length).toBe(odd.length);
  });
});
