// Corruption throughput on CIFAR-10 images: each of the 15 corruptions at severity 5 over `limit` images of
// test_batch.bin (synthetic 32x32 images when ../shared is absent). Acceptance: corrupting the 10,000-image test
// set at one severity takes well under 2 minutes per corruption (the estimate for 10k is printed).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type ImageSet, readCifar } from "../src/data/cifar.js";
import { CORRUPTIONS, corruptSet } from "../src/data/corruptions/index.js";

export interface CorruptBenchRow {
  corruption: string;
  seconds: number;
  imagesPerSecond: number;
}

/** Synthetic stand-in images (gradients + hash noise) when the CIFAR file is missing. */
function syntheticSet(n: number): ImageSet {
  const images = new Uint8Array(n * 3072);
  for (let i = 0; i < images.length; i++) images[i] = ((i * 2654435761 + n) % 4294967296) >>> 24;
  return { images, labels: new Uint8Array(n), count: n, channels: 3, height: 32, width: 32 };
}

export async function benchCorrupt(opts: { shared: string | null; limit?: number }): Promise<CorruptBenchRow[]> {
  const limit = opts.limit ?? 2000;
  const file = opts.shared ? join(opts.shared, "data/cifar10/test_batch.bin") : null;
  const set = file && existsSync(file) ? readCifar(file, limit) : syntheticSet(limit);
  const frostDir = opts.shared ? join(opts.shared, "data/frost") : null;
  const frost = frostDir && existsSync(join(frostDir, "frost1.png")) ? { frostDir } : {};
  const rows: CorruptBenchRow[] = [];
  // Warm-up (JIT, frost texture loading) on a few images.
  const warm: ImageSet = { ...set, images: set.images.subarray(0, 8 * 3072), labels: set.labels.subarray(0, 8), count: Math.min(8, set.count) };
  for (const name of CORRUPTIONS) corruptSet(warm, name, 5, 1, frost);
  for (const name of CORRUPTIONS) {
    const t0 = performance.now();
    corruptSet(set, name, 5, 0, frost);
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ corruption: name, seconds, imagesPerSecond: set.count / seconds });
  }
  const total = rows.reduce((a, r) => a + r.seconds, 0);
  const slowest = rows.reduce((a, r) => (r.seconds > a.seconds ? r : a));
  console.log(
    `corruptions: ${set.count} ${file && existsSync(file) ? "CIFAR-10 test" : "synthetic"} images, severity 5; all 15 in ${total.toFixed(1)}s; ` +
      `10k-image estimate: slowest ${slowest.corruption} ${((slowest.seconds * 10000) / set.count).toFixed(1)}s, all 15 ${((total * 10000) / set.count).toFixed(1)}s`,
  );
  return rows;
}
