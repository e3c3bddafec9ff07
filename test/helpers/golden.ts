// Typed loader for the PyTorch goldens in test/golden/*.json, written by tools/reference/make_golden.py
// (see tools/reference/README.md for what each file holds). Float data are float32 values stored as exact
// decimal doubles, so Float32Array.from(g.data) is lossless.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const GOLDEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "golden");

/** A flat row-major array with its shape; dtype "int64" marks index outputs (argmax, max indices). */
export type GoldenArray = { shape: number[]; data: number[]; dtype?: "int64" };

/** Parsed test/golden/<name>.json (the ".json" suffix is optional). Cached per name. */
export function loadGolden<T>(name: string): T {
  const file = name.endsWith(".json") ? name : `${name}.json`;
  let hit = cache.get(file);
  if (hit === undefined) {
    hit = JSON.parse(readFileSync(resolve(GOLDEN_DIR, file), "utf8")) as unknown;
    cache.set(file, hit);
  }
  return hit as T;
}
const cache = new Map<string, unknown>();

/** Float32Array view of a golden's data (exact: the values already are float32). */
export function goldenF32(g: GoldenArray): Float32Array {
  return Float32Array.from(g.data);
}

// ---- fixture types ---------------------------------------------------------------------------------------------

interface GeneratorMeta {
  generator: string;
  torch: string;
}

/** One op case of ops.json; `output` is a record for multi-output ops (batch_norm training, max). */
export interface OpCase {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: Record<string, GoldenArray>;
  output: GoldenArray | Record<string, GoldenArray>;
}

export interface OpsGolden extends GeneratorMeta {
  cases: OpCase[];
}

export function isGoldenArray(x: OpCase["output"]): x is GoldenArray {
  return Array.isArray((x as GoldenArray).shape) && Array.isArray((x as GoldenArray).data);
}

/** Deterministic input spec: detInput(shape) from test/helpers/detweights.ts. */
export interface DetInputSpec {
  name: "input";
  shape: number[];
}

export interface ParamSpec {
  name: string;
  shape: number[];
}

export interface ModelGoldenBase extends GeneratorMeta {
  input: DetInputSpec;
  /** Total float values filled by det weights (num_batches_tracked excluded). */
  numParamValues: number;
  /** state_dict order, num_batches_tracked excluded. */
  params: ParamSpec[];
  logits: GoldenArray;
}

export interface CifarResNetConfig {
  kind: "cifar_resnet";
  depth: number;
  blocks: number[];
  widths: number[];
  shortcut: "A";
  imgSize: number;
  inChans: number;
  numClasses: number;
  eps: number;
}

export interface VitConfig {
  kind: "vit";
  name?: string;
  imgSize: number;
  patch: number;
  inChans: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  eps: number;
  numClasses: number;
}

export interface TvResNetConfig {
  kind: "tv_resnet";
  arch: "resnet18" | "resnet34" | "resnet50" | "resnet101";
  imgSize: number;
  inChans: number;
  numClasses: number;
  eps: number;
}

export interface CifarResNetTinyGolden extends ModelGoldenBase {
  config: CifarResNetConfig;
  /** stem: conv1 output before bn1 [N,16,H,W]; stageK: global-avg-pooled output of layerK [N, C]. */
  features: { stem: GoldenArray; stage1: GoldenArray; stage2: GoldenArray; stage3: GoldenArray };
  /** Logits with every BN normalising by batch mean and biased batch variance (running stats untouched). */
  logitsBatchStats: GoldenArray;
}

export interface VitOverride {
  block: number;
  norms: string[];
  /** weight <- fround(weight * weightScale) */
  weightScale: number;
  /** bias <- fround(bias + fround(biasShift)) */
  biasShift: number;
}

export interface VitTinyGolden extends ModelGoldenBase {
  config: VitConfig;
  /** patchEmbed: patch tokens + pos_embed, CLS excluded [N, T, D]; cls: CLS after block i through the next
   *  LayerNorm (block i+1's norm1, or the final norm) [N, depth, D]. */
  features: { patchEmbed: GoldenArray; cls: GoldenArray };
  override: VitOverride;
  logitsOverride: GoldenArray;
}

export interface BigModelGolden<C> extends ModelGoldenBase {
  config: C;
  maxAbsLogit: number;
}

export interface DetWeightsCase {
  name: string;
  shape: number[];
  seed: number;
  skip?: true;
  offset?: number;
  scale?: number;
  indices?: number[];
  hash?: number[];
  u?: number[];
  values?: number[];
  /** float64 sum of all values in flat order */
  sum?: number;
  /** every value, for tensors of at most 512 elements */
  all?: number[];
}

export interface DetWeightsGolden extends GeneratorMeta {
  fnvEmpty: number;
  cases: DetWeightsCase[];
  far: { name: string; seed: number; indices: number[]; hash: number[]; u: number[] };
}
