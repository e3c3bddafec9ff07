// CIFAR-10 binary reader: layout, label check, size error, normalisation against a hand computation.
import { describe, expect, it } from "vitest";
import { CIFAR_RECORD, DataFormatError, encodeCifar, normalizeBatch, parseCifar } from "../../src/data/cifar.js";

function record(label: number, fill: (p: number) => number): Uint8Array {
  const r = new Uint8Array(CIFAR_RECORD);
  r[0] = label;
  for (let p = 0; p < 3072; p++) r[1 + p] = fill(p);
  return r;
}

describe("parseCifar", () => {
  const bytes = new Uint8Array([...record(3, (p) => p % 256), ...record(9, (p) => (p * 7) % 256)]);

  it("reads labels and planar RGB images", () => {
    const set = parseCifar(bytes, "two.bin");
    expect(set.count).toBe(2);
    expect([...set.labels]).toEqual([3, 9]);
    expect(set.images[0]).toBe(0);
    expect(set.images[1024]).toBe(1024 % 256); // first G pixel
    expect(set.images[3072 + 5]).toBe(35);
    expect(encodeCifar(set)).toEqual(bytes);
  });

  it("honours limit", () => {
    expect(parseCifar(bytes, "two.bin", 1).count).toBe(1);
  });

  it("rejects a size that is not a multiple of 3073, naming the file", () => {
    expect(() => parseCifar(bytes.subarray(0, 3000), "short.bin")).toThrow(DataFormatError);
    expect(() => parseCifar(bytes.subarray(0, 3000), "short.bin")).toThrow(/short\.bin: size 3000 is not a multiple of 3073/);
  });

  it("rejects labels above 9", () => {
    expect(() => parseCifar(record(12, () => 0), "bad.bin")).toThrow(/bad\.bin: record 0 has label 12/);
  });

  it("normalises as float32(x/255) then (x - mean) / std per channel", () => {
    const set = parseCifar(bytes, "two.bin");
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const x = normalizeBatch(set, 1, 1, mean, std);
    expect([...x.shape]).toEqual([1, 3, 32, 32]);
    for (const [c, p] of [[0, 0], [1, 17], [2, 1023]]) {
      const v = set.images[3072 + c * 1024 + p];
      const expected = Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(mean[c])) / Math.fround(std[c]));
      expect(x.data[c * 1024 + p]).toBe(expected);
    }
  });
});
