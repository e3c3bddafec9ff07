// Mini-batches for training: gather images by index, optionally with the CIFAR augmentation (random crop of the
// image zero-padded by 4 on each side, random horizontal flip; He et al. 2016 sec. 4.2), and per-channel statistics
// of a set for the input normalisation.
import type { ImageSet } from "../data/cifar.js";
import type { Rng } from "../tensor/rng.js";

export interface AugmentOptions {
  /** Zero padding before the random crop (0: no crop). */
  pad: number;
  flip: boolean;
}

export const CIFAR_AUGMENT: AugmentOptions = { pad: 4, flip: true };

/** Images `indices` of `set` as a new set, each randomly shifted and flipped when `augment` is given. */
export function gatherBatch(set: ImageSet, indices: readonly number[], rng: Rng | null, augment: AugmentOptions | null): ImageSet {
  const { channels: C, height: H, width: W } = set;
  const per = C * H * W;
  const n = indices.length;
  const images = new Uint8Array(n * per);
  const labels = new Uint8Array(n);
  indices.forEach((src, b) => {
    labels[b] = set.labels[src];
    if (!augment || !rng) {
      images.set(set.images.subarray(src * per, (src + 1) * per), b * per);
      return;
    }
    // Output pixel (y, x) reads input (y + dy, x' + dx), x' = W-1-x when flipped; outside the image is 0 (the pad).
    const dy = rng.int(-augment.pad, augment.pad + 1);
    const dx = rng.int(-augment.pad, augment.pad + 1);
    const flip = augment.flip && rng.uniform() < 0.5;
    for (let c = 0; c < C; c++) {
      const plane = src * per + c * H * W;
      const out = b * per + c * H * W;
      for (let y = 0; y < H; y++) {
        const sy = y + dy;
        if (sy < 0 || sy >= H) continue;
        for (let x = 0; x < W; x++) {
          const sx = (flip ? W - 1 - x : x) + dx;
          if (sx >= 0 && sx < W) images[out + y * W + x] = set.images[plane + sy * W + sx];
        }
      }
    }
  });
  return { images, labels, count: n, channels: C, height: H, width: W };
}

/** Per-channel mean and (population) std of x/255 over a set: the normalisation its models use. */
export function channelStats(set: ImageSet): { mean: number[]; std: number[] } {
  const plane = set.height * set.width;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < set.channels; c++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < set.count; i++) {
      const base = (i * set.channels + c) * plane;
      for (let p = 0; p < plane; p++) {
        const v = set.images[base + p] / 255;
        s += v;
        s2 += v * v;
      }
    }
    const n = set.count * plane;
    const m = s / n;
    mean.push(Number(m.toFixed(4)));
    std.push(Number(Math.sqrt(Math.max(0, s2 / n - m * m)).toFixed(4)));
  }
  return { mean, std };
}
