// The continual stream: domain order, batch sizes, seeded within-domain shuffles, rounds, limits, the missing
// file error, and the on-the-fly source giving the same batches as files written by corruptSet.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataFormatError, type ImageSet, encodeCifar } from "../../src/data/cifar.js";
import { CORRUPTIONS, corruptSet } from "../../src/data/corruptions/index.js";
import { checkStreamDir, continualStream, domainFileName, streamLength } from "../../src/data/stream.js";
import { syntheticImage } from "./synthetic.js";

const tmp = mkdtempSync(join(tmpdir(), "zoa-stream-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** n images; image i has its index in the first byte and label i % 10. */
function indexedSet(n: number, tag: number): ImageSet {
  const base = syntheticImage(32, 32);
  const images = new Uint8Array(n * 3072);
  for (let i = 0; i < n; i++) {
    images.set(base, i * 3072);
    images[i * 3072] = i;
    images[i * 3072 + 1] = tag;
  }
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n, channels: 3, height: 32, width: 32 };
}

function writeDomains(dir: string, n: number, severity: number): void {
  CORRUPTIONS.forEach((name, k) => writeFileSync(join(dir, domainFileName(name, severity)), encodeCifar(indexedSet(n, k))));
}

describe("continualStream from a directory", () => {
  const dir = join(tmp, "dir");
  mkdirSync(dir);
  writeDomains(dir, 150, 5);

  it("visits the 15 domains in the standard order, batches of 64 with a smaller last one", () => {
    const batches = [...continualStream({ kind: "dir", dir })];
    expect(batches.length).toBe(15 * 3);
    expect(batches.length).toBe(streamLength(150));
    expect(batches.map((b) => b.domain).filter((d, i, a) => a.indexOf(d) === i)).toEqual([...CORRUPTIONS]);
    expect(batches.slice(0, 3).map((b) => b.count)).toEqual([64, 64, 22]);
    expect(batches.slice(0, 3).map((b) => b.index)).toEqual([0, 1, 2]);
    expect(batches.map((b) => b.step)).toEqual(batches.map((_, i) => i));
    // Every batch holds images of its own domain (tag byte), each domain's samples exactly once.
    for (const [k, name] of CORRUPTIONS.entries()) {
      const mine = batches.filter((b) => b.domain === name);
      const seen: number[] = [];
      for (const b of mine) {
        for (let i = 0; i < b.count; i++) {
          expect(b.images[i * 3072 + 1]).toBe(k);
          const idx = b.images[i * 3072];
          expect(b.labels[i]).toBe(idx % 10);
          seen.push(idx);
        }
      }
      expect(seen.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    }
  });

  it("shuffles within a domain with the seed: same seed same order, other seed or round another order", () => {
    const order = (seed: number, rounds = 1) =>
      [...continualStream({ kind: "dir", dir }, { seed, rounds, corruptions: ["fog"] })].map((b) => ({ round: b.round, ids: Array.from({ length: b.count }, (_, i) => b.images[i * 3072]) }));
    const a = order(1);
    expect(order(1)).toEqual(a);
    expect(order(2)).not.toEqual(a);
    expect(a[0].ids).not.toEqual(Array.from({ length: 64 }, (_, i) => i));
    const two = order(1, 2);
    expect(two.length).toBe(6);
    expect(two.slice(0, 3)).toEqual(a);
    expect(two.slice(3).map((b) => b.ids)).not.toEqual(a.map((b) => b.ids));
  });

  it("limitPerDomain keeps the first N samples of each domain, then shuffles them", () => {
    const batches = [...continualStream({ kind: "dir", dir }, { limitPerDomain: 70, corruptions: ["snow", "frost"] })];
    expect(batches.map((b) => [b.domain, b.count])).toEqual([["snow", 64], ["snow", 6], ["frost", 64], ["frost", 6]]);
    for (const b of batches) for (let i = 0; i < b.count; i++) expect(b.images[i * 3072]).toBeLessThan(70);
  });

  it("names a missing domain file before yielding anything", () => {
    expect(() => checkStreamDir(dir, 3)).toThrow(DataFormatError);
    expect(() => [...continualStream({ kind: "dir", dir }, { severity: 3 })]).toThrow(/gaussian_noise-s3\.bin.*missing/);
  });
});

describe("continualStream on the fly", () => {
  it("gives the same batches as files written with corruptSet and the same seed", () => {
    const clean = indexedSet(20, 0);
    const names = ["contrast", "fog"] as const;
    const dir = join(tmp, "fly");
    mkdirSync(dir);
    for (const name of names) writeFileSync(join(dir, domainFileName(name, 5)), encodeCifar(corruptSet(clean, name, 5, 7)));
    const opts = { corruptions: names, batchSize: 8, seed: 3, rounds: 2 };
    const fromDir = [...continualStream({ kind: "dir", dir }, opts)];
    const fly = [...continualStream({ kind: "clean", set: clean, corruptSeed: 7 }, opts)];
    expect(fly.length).toBe(fromDir.length);
    fly.forEach((b, i) => {
      expect(b.domain).toBe(fromDir[i].domain);
      expect(Buffer.from(b.images).equals(Buffer.from(fromDir[i].images))).toBe(true);
      expect(Array.from(b.labels)).toEqual(Array.from(fromDir[i].labels));
    });
  });

  it("rejects bad options", () => {
    const clean = indexedSet(4, 0);
    expect(() => [...continualStream({ kind: "clean", set: clean }, { batchSize: 0 })]).toThrow(/batchSize/);
    expect(() => [...continualStream({ kind: "clean", set: clean }, { severity: 9 })]).toThrow(/severity/);
  });
});
