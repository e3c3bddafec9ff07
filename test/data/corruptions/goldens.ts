// Loads the reference-library goldens written by tools/reference/corruptions/make_goldens.py and compares a
// zoa-ts output with them. 32x32 entries hold whole outputs; 224x224 entries hold two 16x16 crops + a sha256.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hash32, syntheticImage, unitAt } from "../synthetic.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

interface Crop {
  top: number;
  left: number;
  size: number;
}
interface Entry {
  file: string;
  offset: number;
  shape: [number, number, number];
  sha256: string;
  crops?: Crop[];
}
export interface GoldenIndex {
  versions: Record<string, string>;
  arange: Record<"cifar" | "imagenet", number[][]>;
  entries: Record<string, Entry>;
  frost?: Record<string, { shape: [number, number, number]; sha256: string; centre16Mean: [number, number, number]; full_sha256: string }>;
}

export const GOLDENS: GoldenIndex = JSON.parse(readFileSync(join(FIXTURES, "corruption-goldens.json"), "utf8"));
const blobs = new Map<string, Buffer>();

/**
 * Floating-point summation order can differ from the libraries' (OpenCV's DFT filter2D, numpy's exp):
 * at most this many levels apart ...
 */
export const MAX_GOLDEN_LEVEL_DIFF = 1;
/** ... on at most this fraction of the values (measured: 0 for 32x32, < 1e-3 for 224x224). */
export const MAX_GOLDEN_DIFF_FRACTION = 0.005;

export interface GoldenComparison {
  /** Values compared (whole image or the crops). */
  compared: number;
  differing: number;
  maxDiff: number;
  /** Whole output equal to the reference (sha256). */
  exact: boolean;
}

/** Compares a planar [3, H, W] output with golden `key` ("cifar/snow/5"). */
export function compareGolden(key: string, out: Uint8Array): GoldenComparison {
  const e = GOLDENS.entries[key];
  if (!e) throw new Error(`no golden ${key}`);
  let blob = blobs.get(e.file);
  if (!blob) {
    blob = readFileSync(join(FIXTURES, e.file));
    blobs.set(e.file, blob);
  }
  const [, h, w] = e.shape;
  const mine: number[] = [];
  if (!e.crops) for (const v of out) mine.push(v);
  else {
    for (const c of e.crops) {
      for (let ch = 0; ch < 3; ch++) for (let y = 0; y < c.size; y++) for (let x = 0; x < c.size; x++) mine.push(out[ch * h * w + (c.top + y) * w + c.left + x]);
    }
  }
  const ref = blob.subarray(e.offset, e.offset + mine.length);
  let differing = 0;
  let maxDiff = 0;
  for (let i = 0; i < mine.length; i++) {
    const d = Math.abs(mine[i] - ref[i]);
    if (d) differing++;
    if (d > maxDiff) maxDiff = d;
  }
  const exact = createHash("sha256").update(out).digest("hex") === e.sha256;
  return { compared: mine.length, differing, maxDiff, exact };
}

export function goldenKeys(prefix: string): string[] {
  return Object.keys(GOLDENS.entries).filter((k) => k.startsWith(prefix));
}

/** The input image of the goldens for a variant. */
export function goldenInput(variant: "cifar" | "imagenet"): Uint8Array {
  const n = variant === "cifar" ? 32 : 224;
  return syntheticImage(n, n);
}

export function goldenSize(variant: "cifar" | "imagenet"): number {
  return variant === "cifar" ? 32 : 224;
}

/** The shared uniform stream from index `start` (make_goldens.py's Stream). */
export function uniformStream(start: number): () => number {
  let k = start;
  return () => unitAt(k++);
}

/** glass_blur offsets of make_goldens.py: dx = -d + hash(k) % 2d, dy = -d + hash(k+1) % 2d, k += 2. */
export function glassDeltas(start: number, d: number): () => readonly [number, number] {
  let k = start;
  return () => {
    const r = [-d + (hash32(k) % (2 * d)), -d + (hash32(k + 1) % (2 * d))] as const;
    k += 2;
    return r;
  };
}

/** Angles make_goldens.py uses for motion_blur and snow, by severity 1..5. */
export const MOTION_ANGLES = [-37.3, 12.5, 45.0, 0.0, -44.9];
export const SNOW_ANGLES = [-100.3, -45.0, -135.0, -90.0, -61.7];
