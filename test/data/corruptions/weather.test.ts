// Weather corruptions: range and effect, the reference-library goldens with the random inputs injected, and
// the frost textures against cv2.imread + cv2.resize when ../shared is present.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { corrupt } from "../../../src/data/corruptions/index.js";
import { loadFrostTextures } from "../../../src/data/corruptions/frost_files.js";
import { cropTexture, frostCrop, proceduralFrostTextures } from "../../../src/data/corruptions/frost_texture.js";
import { SEVERITY_TABLES } from "../../../src/data/corruptions/params.js";
import { plasmaFractal } from "../../../src/data/corruptions/plasma.js";
import { fogWith, frostWith, plasmaSize, snowWith } from "../../../src/data/corruptions/weather.js";
import { Rng } from "../../../src/tensor/rng.js";
import { sharedPath } from "../../helpers/shared.js";
import { syntheticImage } from "../synthetic.js";
import { GOLDENS, MAX_GOLDEN_DIFF_FRACTION, MAX_GOLDEN_LEVEL_DIFF, SNOW_ANGLES, compareGolden, goldenInput, goldenKeys, goldenSize, uniformStream } from "./goldens.js";

const VARIANTS = ["cifar", "imagenet"] as const;

function expectGolden(key: string, out: Uint8Array): void {
  const r = compareGolden(key, out);
  expect(r.maxDiff, key).toBeLessThanOrEqual(MAX_GOLDEN_LEVEL_DIFF);
  expect(r.differing / r.compared, key).toBeLessThanOrEqual(MAX_GOLDEN_DIFF_FRACTION);
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

describe.each(["fog", "frost", "snow"] as const)("%s", (name) => {
  it("stays a uint8 image of the same size and changes it, at every severity", () => {
    const img = syntheticImage(32, 32);
    for (let s = 1; s <= 5; s++) {
      const out = corrupt(name, img, 32, 32, s, new Rng(s));
      expect(out).toBeInstanceOf(Uint8Array);
      expect(out.length).toBe(img.length);
      expect(meanAbsDiff(out, img)).toBeGreaterThan(1);
    }
  });
});

describe("plasma fractal", () => {
  it("is normalised to [0, 1] with both ends reached", () => {
    const rng = new Rng(3);
    for (const size of [32, 256]) {
      const m = plasmaFractal(size, 1.75, () => rng.uniform());
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of m) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
      expect(lo).toBe(0);
      expect(hi).toBe(1);
    }
    expect(plasmaSize(32, 32)).toBe(32);
    expect(plasmaSize(224, 224)).toBe(256);
  });
});

describe.each(VARIANTS)("reference goldens (%s input, random inputs injected)", (variant) => {
  const size = goldenSize(variant);
  const img = goldenInput(variant);

  it("fog matches numpy's plasma fractal and the fog formula", () => {
    for (const key of goldenKeys(`${variant}/fog/`)) {
      const s = Number(key.split("/")[2]);
      const [amount, decay] = SEVERITY_TABLES[variant].fog[s - 1];
      const ms = plasmaSize(size, size);
      expectGolden(key, fogWith(img, size, size, amount, plasmaFractal(ms, decay, uniformStream(3000 * s)), ms));
    }
  });

  it("snow matches scipy zoom + PIL/ImageMagick motion blur + cv2 grey", () => {
    for (const key of goldenKeys(`${variant}/snow/`)) {
      const s = Number(key.split("/")[2]);
      const u = uniformStream(4000 * s);
      const normals = Float64Array.from({ length: size * size }, () => (u() - 0.5) * 3.0);
      expectGolden(key, snowWith(img, size, size, SEVERITY_TABLES[variant].snow[s - 1], normals, SNOW_ANGLES[s - 1]));
    }
  });
});

describe("frost", () => {
  it("is clip(c0 x + c1 frost) truncated", () => {
    const x = Uint8Array.from([0, 100, 255, 200]);
    const f = Uint8Array.from([255, 100, 255, 11]);
    expect(Array.from(frostWith(x, f, 0.75, 0.45))).toEqual([114, 120, 255, 154]);
  });

  it("crops from frost1..frost5 only, at random offsets inside the texture", () => {
    const t = proceduralFrostTextures("cifar");
    expect(t.textures.length).toBe(5);
    const rng = new Rng(9);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const crop = frostCrop(t, 32, 32, rng);
      expect(crop.length).toBe(3 * 32 * 32);
      seen.add(createHash("sha1").update(crop).digest("hex"));
    }
    expect(seen.size).toBeGreaterThan(150);
  });

  it("procedural stand-ins have the real textures' per-channel means", () => {
    const t = proceduralFrostTextures("cifar");
    const expected = [77.5, 200.8, 200.8, 138.0, 112.3]; // red-channel means of frost1..frost5 at 0.2 scale
    t.textures.forEach((tex, k) => {
      const plane = tex.height * tex.width;
      let s = 0;
      for (let i = 0; i < plane; i++) s += tex.data[i];
      expect(Math.abs(s / plane - expected[k])).toBeLessThan(3);
    });
  });

  it("reads frost1..frost5 like cv2.imread + cv2.resize(fx=fy=0.2) (PNG exact, JPEG within jpeg-js's decoder error)", () => {
    const dir = sharedPath("data/frost");
    if (!dir || !GOLDENS.frost) return;
    const t = loadFrostTextures(dir, "cifar");
    for (const tex of t.textures) {
      const e = GOLDENS.frost[tex.name];
      expect([3, tex.height, tex.width]).toEqual(e.shape);
      const centre = cropTexture(tex, (tex.height >> 1) - 8, (tex.width >> 1) - 8, 16, 16);
      if (tex.name.endsWith(".png")) {
        expect(createHash("sha256").update(tex.data).digest("hex")).toBe(e.sha256);
      } else {
        // NOTE: jpeg-js's IDCT / upsampling differ from libjpeg-turbo by a few levels (measured max 3 per pixel);
        // the fixture keeps only the crop's per-channel means, so compare those.
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let i = 0; i < 256; i++) s += centre[c * 256 + i];
          expect(Math.abs(s / 256 - e.centre16Mean[c])).toBeLessThan(1);
        }
      }
    }
  });
});
