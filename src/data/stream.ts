// The continual test stream of zoa-method.md section 1: the 15 corruptions in the standard order, one domain
// after another with no reset, repeated for R rounds; within a domain the samples are shuffled with a seeded
// permutation (a new one each round, like a shuffling DataLoader) and cut into batches of 64 (the last batch
// of a domain may be smaller). Images stay uint8 [N, 3, H, W]; the model code normalises them.
// Sources: a directory of `<corruption>-s<severity>.bin` files (written by `zoa corrupt`), or a clean ImageSet
// corrupted on the fly with corruptSet (same seed -> the same bytes as the files).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../tensor/rng.js";
import { DataFormatError, type ImageSet, readCifar } from "./cifar.js";
import { CORRUPTIONS, type CorruptOptions, type CorruptionName, corruptSet } from "./corruptions/index.js";

export interface StreamBatch {
  domain: CorruptionName;
  /** 0-based round (pass over all domains). */
  round: number;
  /** 0-based batch index within this domain and round. */
  index: number;
  /** 0-based batch index over the whole stream. */
  step: number;
  images: Uint8Array; // [count, channels, height, width]
  labels: Uint8Array; // [count]
  count: number;
  channels: number;
  height: number;
  width: number;
}

export type StreamSource =
  | { kind: "dir"; dir: string }
  | { kind: "clean"; set: ImageSet; corruptSeed?: number; corrupt?: CorruptOptions };

export interface StreamOptions {
  severity?: number; // default 5
  rounds?: number; // default 1
  batchSize?: number; // default 64
  /** Seed of the within-domain shuffles. */
  seed?: number; // default 0
  /** Use only the first N samples of each domain (before shuffling). */
  limitPerDomain?: number;
  /** Domains in stream order; default the 15 corruptions in the standard order. */
  corruptions?: readonly CorruptionName[];
  /** Corrupted sets kept in memory between rounds (on-the-fly source) up to this many bytes; default 256 MiB. */
  cacheBytes?: number;
}

/** The file name `zoa corrupt` writes for a domain. */
export function domainFileName(name: CorruptionName, severity: number): string {
  return `${name}-s${severity}.bin`;
}

/** The shuffle of (round, domain): a permutation of 0..n-1 from the stream seed. */
export function domainPermutation(seed: number, round: number, domainIndex: number, n: number): number[] {
  return new Rng(seed, 0x57a7 + domainIndex).fork(round).permutation(n);
}

interface ResolvedOptions {
  severity: number;
  rounds: number;
  batchSize: number;
  seed: number;
  limit: number | undefined;
  domains: readonly CorruptionName[];
  cacheBytes: number;
}

function resolveOptions(opts: StreamOptions): ResolvedOptions {
  const severity = opts.severity ?? 5;
  const rounds = opts.rounds ?? 1;
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) throw new RangeError(`stream: severity must be 1..5, got ${severity}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`stream: rounds must be a positive integer, got ${rounds}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`stream: batchSize must be a positive integer, got ${batchSize}`);
  if (opts.limitPerDomain !== undefined && !(opts.limitPerDomain >= 1)) throw new RangeError(`stream: limitPerDomain must be >= 1, got ${opts.limitPerDomain}`);
  const domains = opts.corruptions ?? CORRUPTIONS;
  if (domains.length === 0) throw new RangeError("stream: no corruptions given");
  return { severity, rounds, batchSize, seed: opts.seed ?? 0, limit: opts.limitPerDomain, domains, cacheBytes: opts.cacheBytes ?? 256 * 2 ** 20 };
}

/**
 * Checks that every domain file exists before a long run starts; throws a DataFormatError naming the first
 * missing one.
 */
export function checkStreamDir(dir: string, severity: number, domains: readonly CorruptionName[] = CORRUPTIONS): void {
  for (const name of domains) {
    const file = join(dir, domainFileName(name, severity));
    if (!existsSync(file)) {
      throw new DataFormatError(file, `missing: the continual stream needs ${domainFileName(name, severity)} (write it with: zoa corrupt --data test_batch.bin --out ${dir} --severity ${severity})`);
    }
  }
}

/**
 * The continual stream as a generator of batches.
 * @example for (const b of continualStream({ kind: "dir", dir: "/tmp/zoa-c" }, { limitPerDomain: 2000 })) model.step(b)
 */
export function* continualStream(source: StreamSource, opts: StreamOptions = {}): Generator<StreamBatch> {
  const o = resolveOptions(opts);
  if (source.kind === "dir") checkStreamDir(source.dir, o.severity, o.domains);
  const cache = new Map<CorruptionName, ImageSet>();
  let cached = 0;
  const load = (name: CorruptionName): ImageSet => {
    if (source.kind === "dir") return readCifar(join(source.dir, domainFileName(name, o.severity)), o.limit);
    const hit = cache.get(name);
    if (hit) return hit;
    const clean = limitSet(source.set, o.limit);
    const set = corruptSet(clean, name, o.severity, source.corruptSeed ?? 0, source.corrupt ?? {});
    if (o.rounds > 1 && cached + set.images.length <= o.cacheBytes) {
      cache.set(name, set);
      cached += set.images.length;
    }
    return set;
  };
  let step = 0;
  for (let round = 0; round < o.rounds; round++) {
    for (const name of o.domains) {
      const set = load(name);
      const per = set.channels * set.height * set.width;
      const order = domainPermutation(o.seed, round, CORRUPTIONS.indexOf(name), set.count);
      for (let start = 0, index = 0; start < set.count; start += o.batchSize, index++) {
        const count = Math.min(o.batchSize, set.count - start);
        const images = new Uint8Array(count * per);
        const labels = new Uint8Array(count);
        for (let i = 0; i < count; i++) {
          const src = order[start + i];
          images.set(set.images.subarray(src * per, (src + 1) * per), i * per);
          labels[i] = set.labels[src];
        }
        yield { domain: name, round, index, step: step++, images, labels, count, channels: set.channels, height: set.height, width: set.width };
      }
    }
  }
}

/** Number of batches the stream will yield for domains of `perDomain` samples. */
export function streamLength(perDomain: number, opts: StreamOptions = {}): number {
  const o = resolveOptions(opts);
  const n = o.limit !== undefined ? Math.min(perDomain, o.limit) : perDomain;
  return o.rounds * o.domains.length * Math.ceil(n / o.batchSize);
}

function limitSet(set: ImageSet, limit: number | undefined): ImageSet {
  if (limit === undefined || limit >= set.count) return set;
  const per = set.channels * set.height * set.width;
  return { ...set, images: set.images.subarray(0, limit * per), labels: set.labels.subarray(0, limit), count: limit };
}
