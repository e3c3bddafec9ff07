// Frost textures for the frost corruption. The reference reads frost1..frost5 (frost6 is listed but never
// drawn: randint(5)) with cv2.imread, shrinks them with cv2.resize(fx=fy=0.2, INTER_LINEAR) for CIFAR (no
// resize for ImageNet), then takes a random H x W crop. The files are read in frost_files.ts (Node); this module
// has no file access (browser-safe).
// Without the files, a seeded procedural stand-in is used (see proceduralFrostTextures): an approximation.
import { Rng } from "../../tensor/rng.js";
import { scipyGaussianFilter } from "./filters.js";
import type { Variant } from "./params.js";
import { plasmaFractal } from "./plasma.js";
import { cvResizeLinear } from "./resize.js";

export const FROST_FILES = ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg"] as const;

/** One RGB texture, planar [3, H, W]. */
export interface FrostTexture {
  readonly name: string;
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
}

export interface FrostTextures {
  /** "dir:<path>" or "procedural" (recorded in manifests). */
  readonly source: string;
  readonly variant: Variant;
  readonly textures: readonly FrostTexture[];
}

export class FrostTextureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrostTextureError";
  }
}

/** The CIFAR pipeline's cv2.resize(fx=0.2, fy=0.2), channel by channel. */
export function shrinkTexture(t: FrostTexture, factor: number): FrostTexture {
  const plane = t.height * t.width;
  const parts = [0, 1, 2].map((c) => cvResizeLinear(t.data.subarray(c * plane, (c + 1) * plane), t.height, t.width, factor));
  const { height, width } = parts[0];
  const data = new Uint8Array(3 * height * width);
  parts.forEach((p, c) => data.set(p.data, c * height * width));
  return { name: t.name, data, height, width };
}

const cache = new Map<string, FrostTextures>();

/**
 * Per-channel (R, G, B) mean and standard deviation of frost1..frost5 after the 0.2 shrink, and the shrunk
 * sizes; the procedural stand-ins are scaled to these.
 */
const FROST_STATS = [
  { h: 120, w: 180, mean: [77.5, 149.0, 165.7], std: [26.8, 16.4, 15.3] },
  { h: 63, w: 112, mean: [200.8, 205.4, 214.5], std: [21.4, 22.1, 22.6] },
  { h: 63, w: 112, mean: [200.8, 205.4, 214.5], std: [21.4, 22.1, 22.6] },
  { h: 70, w: 105, mean: [138.0, 153.2, 165.6], std: [29.0, 29.0, 30.2] },
  { h: 99, w: 132, mean: [112.3, 123.3, 134.7], std: [44.3, 43.2, 41.6] },
] as const;

/**
 * Seeded procedural stand-ins for frost1..frost5 (used when no texture directory is given). Each is a plasma
 * cloud plus blurred random ice needles, scaled per channel to the real texture's mean and standard deviation,
 * at the real texture's size (x5 for ImageNet, i.e. unshrunk). APPROXIMATION: the statistics match, the
 * crystal structure does not; frost accuracies are not comparable with the reference without the files.
 */
export function proceduralFrostTextures(variant: Variant): FrostTextures {
  const key = `procedural:${variant}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const scale = variant === "cifar" ? 1 : 5;
  const textures = FROST_STATS.map((s, k) => proceduralTexture(s.h * scale, s.w * scale, s.mean, s.std, scale, new Rng(0xf205 + k, 7)));
  const out: FrostTextures = { source: "procedural", variant, textures: textures.map((t, k) => ({ ...t, name: `procedural-${FROST_FILES[k]}` })) };
  cache.set(key, out);
  return out;
}

function proceduralTexture(height: number, width: number, mean: readonly number[], std: readonly number[], scale: number, rng: Rng): FrostTexture {
  const plane = height * width;
  let size = 2;
  while (size < Math.max(height, width)) size *= 2;
  const cloud = plasmaFractal(size, 2, () => rng.uniform());
  // Ice needles: straight strokes with short side branches, drawn additively then blurred.
  const ice = new Float64Array(plane);
  const strokes = Math.round((plane / (40 * scale * scale)) * 1.0);
  for (let s = 0; s < strokes; s++) {
    let x = rng.uniformIn(0, width);
    let y = rng.uniformIn(0, height);
    const angle = rng.uniformIn(0, 2 * Math.PI);
    const length = rng.uniformIn(4, 14) * scale;
    const branchEvery = 3 * scale;
    for (let t = 0; t < length; t += 0.5) {
      x += 0.5 * Math.cos(angle);
      y += 0.5 * Math.sin(angle);
      plot(ice, height, width, x, y, 1);
      if (t % branchEvery < 0.5) {
        const side = rng.uniform() < 0.5 ? -1 : 1;
        const ba = angle + (side * Math.PI) / 3;
        for (let u = 0; u < length / 4; u += 0.5) plot(ice, height, width, x + u * Math.cos(ba), y + u * Math.sin(ba), 0.7);
      }
    }
  }
  const iceBlur = scipyGaussianFilter(ice, height, width, 0.6 * scale, "reflect", 4);
  const gray = new Float64Array(plane);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) gray[y * width + x] = cloud[y * size + x] + 1.5 * iceBlur[y * width + x];
  let m = 0;
  for (let i = 0; i < plane; i++) m += gray[i];
  m /= plane;
  let v = 0;
  for (let i = 0; i < plane; i++) v += (gray[i] - m) ** 2;
  const sd = Math.sqrt(v / plane) || 1;
  const data = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const z = (gray[i] - m) / sd;
      data[c * plane + i] = Math.min(255, Math.max(0, Math.round(mean[c] + std[c] * z)));
    }
  }
  return { name: "procedural", data, height, width };
}

function plot(img: Float64Array, height: number, width: number, x: number, y: number, v: number): void {
  const xi = Math.floor(x);
  const yi = Math.floor(y);
  if (xi < 0 || yi < 0 || xi >= width || yi >= height) return;
  img[yi * width + xi] += v;
}

/** The random part of frost: idx = randint(5), then a crop at (randint(th - H), randint(tw - W)). */
export function frostCrop(textures: FrostTextures, height: number, width: number, rng: Rng): Uint8Array {
  const t = textures.textures[rng.int(0, textures.textures.length)];
  if (t.height < height || t.width < width) {
    throw new FrostTextureError(`frost texture ${t.name} (${t.height}x${t.width}) is smaller than the ${height}x${width} image`);
  }
  const top = t.height > height ? rng.int(0, t.height - height) : 0;
  const left = t.width > width ? rng.int(0, t.width - width) : 0;
  return cropTexture(t, top, left, height, width);
}

/** The [3, H, W] crop of a texture at (top, left). */
export function cropTexture(t: FrostTexture, top: number, left: number, height: number, width: number): Uint8Array {
  const out = new Uint8Array(3 * height * width);
  const tp = t.height * t.width;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const src = c * tp + (top + y) * t.width + left;
      out.set(t.data.subarray(src, src + width), c * height * width + y * width);
    }
  }
  return out;
}
