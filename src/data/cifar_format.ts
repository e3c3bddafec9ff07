// CIFAR-10 binary format: records of 3073 bytes = 1 label byte + 3072 bytes (R, G, B planes of 32x32,
// each row-major). Images stay uint8 CHW here; `normalizeBatch` turns them into the model's float input.
// No file access (browser-safe); `readCifar` is in cifar.ts.
import { Tensor } from "../tensor/tensor.js";

export const CIFAR_RECORD = 3073;
export const CIFAR_PIXELS = 3072;

export class DataFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "DataFormatError";
  }
}

/** A set of uint8 images (N x C x H x W, planar) with labels. */
export interface ImageSet {
  readonly images: Uint8Array; // [N, C, H, W]
  readonly labels: Uint8Array; // [N]
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** Parses CIFAR-10 binary bytes; `file` only names the source in errors. */
export function parseCifar(bytes: Uint8Array, file = "<memory>", limit?: number): ImageSet {
  if (bytes.length % CIFAR_RECORD !== 0) {
    throw new DataFormatError(file, `size ${bytes.length} is not a multiple of ${CIFAR_RECORD} (1 label byte + 3x32x32 pixels per record)`);
  }
  const total = bytes.length / CIFAR_RECORD;
  const count = limit === undefined ? total : Math.min(total, Math.max(0, limit));
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = bytes[i * CIFAR_RECORD];
    if (label > 9) throw new DataFormatError(file, `record ${i} has label ${label}, expected 0..9`);
    labels[i] = label;
    images.set(bytes.subarray(i * CIFAR_RECORD + 1, (i + 1) * CIFAR_RECORD), i * CIFAR_PIXELS);
  }
  return { images, labels, count, channels: 3, height: 32, width: 32 };
}

/** Serialises images + labels back to the CIFAR binary layout. */
export function encodeCifar(set: ImageSet): Uint8Array {
  const per = set.channels * set.height * set.width;
  if (per !== CIFAR_PIXELS) throw new DataFormatError("<encode>", `CIFAR records need 3x32x32 images, got ${set.channels}x${set.height}x${set.width}`);
  const out = new Uint8Array(set.count * CIFAR_RECORD);
  for (let i = 0; i < set.count; i++) {
    out[i * CIFAR_RECORD] = set.labels[i];
    out.set(set.images.subarray(i * per, (i + 1) * per), i * CIFAR_RECORD + 1);
  }
  return out;
}

/** The images [start, start+n) of a set as a float tensor [n, C, H, W]: x/255, then (x - mean[c]) / std[c]. */
export function normalizeBatch(
  set: ImageSet,
  start: number,
  n: number,
  mean: readonly number[],
  std: readonly number[],
): Tensor {
  const { channels: C, height: H, width: W } = set;
  const plane = H * W;
  const out = new Float32Array(n * C * plane);
  for (let i = 0; i < n; i++) {
    const src = (start + i) * C * plane;
    for (let c = 0; c < C; c++) {
      // NOTE: computed as PyTorch does it: ToTensor gives float32(x/255), Normalize does (x - m) / s in float32.
      const m = Math.fround(mean[c]);
      const s = Math.fround(std[c]);
      const base = i * C * plane + c * plane;
      for (let p = 0; p < plane; p++) {
        const x = Math.fround(set.images[src + c * plane + p] / 255);
        out[base + p] = Math.fround(x - m) / s;
      }
    }
  }
  return new Tensor([n, C, H, W], out);
}
