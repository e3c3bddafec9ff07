// The page's test stream: procedural images (src/data/procedural.ts) cut into batches, each batch corrupted by its
// domain's corruption at the severity read when the batch is drawn. Stream image i is class i % 10 drawn with
// Rng(seed, i); its corruption uses imageRng(seed, corruption, severity, i) (corruptSet's indexOffset), so a batch's
// bytes depend only on (seed, step, batch size, corruption, severity).
import { type CorruptionName, type ImageSet, PROCEDURAL_CLASSES, Rng, type StreamBatch, corruptSet, drawProcedural } from "../src/browser.js";

/** Procedural images [start, start + count) of stream `seed`, size x size, planar RGB. */
export function proceduralRange(seed: number, start: number, count: number, size: number): ImageSet {
  const per = 3 * size * size;
  const images = new Uint8Array(count * per);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const i = start + k;
    labels[k] = i % PROCEDURAL_CLASSES.length;
    drawProcedural(labels[k], new Rng(seed, i), size, 12, images, k * per);
  }
  return { images, labels, count, channels: 3, height: size, width: size };
}

export interface StreamPlan {
  corruptions: readonly CorruptionName[];
  batchesPerDomain: number;
  batchSize: number;
  seed: number;
  imageSize: number;
}

/** Batch `step` of the plan (domain = step / batchesPerDomain), corrupted at `severity`. */
export function streamBatch(plan: StreamPlan, step: number, severity: number): StreamBatch {
  const d = Math.floor(step / plan.batchesPerDomain);
  const domain = plan.corruptions[d];
  if (domain === undefined) throw new RangeError(`stream: step ${step} is past the end (${plan.corruptions.length} domains)`);
  const start = step * plan.batchSize;
  const clean = proceduralRange(plan.seed, start, plan.batchSize, plan.imageSize);
  const set = corruptSet(clean, domain, severity, plan.seed, { indexOffset: start });
  return { domain, round: 0, index: step % plan.batchesPerDomain, step, ...set };
}

export function streamSteps(plan: StreamPlan): number {
  return plan.corruptions.length * plan.batchesPerDomain;
}
