// The procedural dataset: same seed same bytes, balanced labels in range, every class drawn, and not separable by
// colour statistics (nearest class mean on raw pixels far below the 60% bound).
import { describe, expect, it } from "vitest";
import { encodeCifar, parseCifar } from "../../src/data/cifar.js";
import { PROCEDURAL_CLASSES, proceduralSet } from "../../src/data/procedural.js";

/** FNV-1a over the bytes, to compare sets cheaply. */
function fnv(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

describe("proceduralSet", () => {
  it("is deterministic: same seed same bytes, another seed other bytes; image i does not depend on the count", () => {
    const a = proceduralSet(50, 7);
    const b = proceduralSet(50, 7);
    expect(fnv(a.images)).toBe(fnv(b.images));
    expect(a.labels).toEqual(b.labels);
    expect(fnv(proceduralSet(50, 8).images)).not.toBe(fnv(a.images));
    const prefix = proceduralSet(20, 7);
    expect(fnv(prefix.images)).toBe(fnv(a.images.subarray(0, prefix.images.length)));
  });

  it("has balanced labels in 0..9, the CIFAR layout, and round-trips through encodeCifar", () => {
    const set = proceduralSet(200, 1);
    expect([set.count, set.channels, set.height, set.width]).toEqual([200, 3, 32, 32]);
    expect(set.images.length).toBe(200 * 3 * 32 * 32);
    const counts = new Array<number>(10).fill(0);
    for (const l of set.labels) counts[l]++;
    expect(counts).toEqual(new Array<number>(10).fill(20));
    expect(PROCEDURAL_CLASSES).toHaveLength(10);
    const back = parseCifar(encodeCifar(set));
    expect(fnv(back.images)).toBe(fnv(set.images));
    expect(back.labels).toEqual(set.labels);
  });

  it("uses the whole pixel range and differs from image to image", () => {
    const set = proceduralSet(100, 3);
    let lo = 255;
    let hi = 0;
    for (const v of set.images) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeLessThan(10);
    expect(hi).toBeGreaterThan(245);
    const per = 3 * 32 * 32;
    const hashes = new Set(Array.from({ length: set.count }, (_, i) => fnv(set.images.subarray(i * per, (i + 1) * per))));
    expect(hashes.size).toBe(set.count);
  });

  it("other sizes scale the geometry", () => {
    const set = proceduralSet(10, 1, { size: 16 });
    expect([set.height, set.width, set.images.length]).toEqual([16, 16, 10 * 3 * 16 * 16]);
    expect(() => proceduralSet(1, 1, { size: 4 })).toThrow(/size/);
  });

  it("is not separable by colour: nearest class mean on raw pixels stays below 60% (measured ~12%)", () => {
    const train = proceduralSet(2000, 11);
    const test = proceduralSet(500, 12);
    const per = 3 * 32 * 32;
    const means = new Float64Array(10 * per);
    const counts = new Float64Array(10);
    for (let i = 0; i < train.count; i++) {
      const l = train.labels[i];
      counts[l]++;
      for (let j = 0; j < per; j++) means[l * per + j] += train.images[i * per + j];
    }
    for (let k = 0; k < 10; k++) for (let j = 0; j < per; j++) means[k * per + j] /= counts[k];
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let k = 0; k < 10; k++) {
        let d = 0;
        for (let j = 0; j < per; j++) d += (test.images[i * per + j] - means[k * per + j]) ** 2;
        if (d < bestD) [bestD, best] = [d, k];
      }
      if (best === test.labels[i]) correct++;
    }
    expect(correct / test.count).toBeLessThan(0.6);
  });
});
