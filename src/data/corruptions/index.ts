// The corruption registry for Node: corrupt.ts (the 15 corruptions, browser-safe) plus the `frostDir` option,
// which reads the reference frost1..frost5 textures from a directory (frost_files.ts) instead of the procedural
// stand-in. Everything else is re-exported unchanged.
import type { Rng } from "../../tensor/rng.js";
import type { ImageSet } from "../cifar_format.js";
import { type CorruptOptions as BaseCorruptOptions, type CorruptionName, corrupt as corruptImage, corruptSet as corruptImageSet } from "./corrupt.js";
import { loadFrostTextures } from "./frost_files.js";
import { type FrostTextures, proceduralFrostTextures } from "./frost_texture.js";
import { type Variant, variantForSize } from "./params.js";

export * from "./corrupt.js";

export interface CorruptOptions extends BaseCorruptOptions {
  /** Directory holding frost1.png .. frost5.jpg; without it (and without `frost`) a procedural stand-in is used. */
  frostDir?: string;
}

/** The textures frost will use under these options (`frost` overrides `frostDir`). */
export function frostTexturesFor(variant: Variant, opts: CorruptOptions = {}): FrostTextures {
  if (opts.frost) return opts.frost;
  return opts.frostDir !== undefined ? loadFrostTextures(opts.frostDir, variant) : proceduralFrostTextures(variant);
}

/** opts with `frostDir` loaded into `frost` when the frost corruption will draw from it. */
function resolveFrost<T extends CorruptOptions>(name: CorruptionName, height: number, width: number, opts: T): T {
  if (name !== "frost" || opts.frost || opts.frostDir === undefined) return opts;
  return { ...opts, frost: loadFrostTextures(opts.frostDir, variantForSize(height, width, opts.variant)) };
}

/**
 * Corrupts one planar RGB image [3, H, W] at severity 1..5 (see corrupt.ts), reading frost textures from
 * `opts.frostDir` when given.
 * @example corrupt("frost", img, 32, 32, 5, new Rng(0), { frostDir: "../shared/data/frost" })
 */
export function corrupt(name: CorruptionName, image: Uint8Array, height: number, width: number, severity: number, rng: Rng, opts: CorruptOptions = {}): Uint8Array {
  return corruptImage(name, image, height, width, severity, rng, resolveFrost(name, height, width, opts));
}

/**
 * Corrupts every image of a set (see corrupt.ts), reading frost textures from `opts.frostDir` when given.
 * @example corruptSet(readCifar("test_batch.bin", 2000), "snow", 5, 0)
 */
export function corruptSet(set: ImageSet, name: CorruptionName, severity: number, seed: number, opts: CorruptOptions & { indexOffset?: number; onProgress?: (done: number) => void } = {}): ImageSet {
  return corruptImageSet(set, name, severity, seed, resolveFrost(name, set.height, set.width, opts));
}
