// The page's settings: defaults, URL parameters (?model=vit&precision=w6a6&corruptions=fog,snow&batches=2&batch=64
// &severity=3&backend=simd&exec=integer&seed=0&source=256&autorun=1) and validation with messages naming the parameter.
import { CORRUPTIONS, type CorruptionName, type ExecMode, isCorruptionName } from "../src/browser.js";
import type { Precision } from "./session.js";

export const DEMO_MODELS = {
  resnet8: "../models/demo_resnet8.safetensors",
  vit: "../models/demo_vit.safetensors",
} as const;
export type DemoModel = keyof typeof DEMO_MODELS;

export interface Settings {
  model: DemoModel;
  precision: Precision;
  exec: ExecMode;
  corruptions: CorruptionName[];
  batchesPerDomain: number;
  batchSize: number;
  severity: number;
  /** A backend name, or "" for the page's choice (gpujs when present, else simd). */
  backend: string;
  seed: number;
  /** Clean images for ZOA's source statistics. */
  sourceImages: number;
  autorun: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  model: "resnet8",
  precision: "w8a8",
  exec: "simulated",
  corruptions: ["gaussian_noise", "defocus_blur", "snow", "contrast", "jpeg_compression"],
  batchesPerDomain: 8,
  batchSize: 64,
  severity: 5,
  backend: "",
  seed: 0,
  sourceImages: 256,
  autorun: false,
};

function int(v: string, name: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new RangeError(`URL parameter ${name}: expected an integer in ${lo}..${hi}, got '${v}'`);
  return n;
}

/** Parses a comma list of corruption names (stream order). */
export function parseCorruptions(v: string, name = "corruptions"): CorruptionName[] {
  const list = v.split(",").map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new RangeError(`${name}: give at least one corruption`);
  for (const c of list) if (!isCorruptionName(c)) throw new RangeError(`${name}: unknown corruption '${c}' (valid: ${CORRUPTIONS.join(", ")})`);
  return list as CorruptionName[];
}

export function settingsFromUrl(search: string): Settings {
  const p = new URLSearchParams(search);
  const s: Settings = { ...DEFAULT_SETTINGS, corruptions: [...DEFAULT_SETTINGS.corruptions] };
  const model = p.get("model");
  if (model !== null) {
    if (!(model in DEMO_MODELS)) throw new RangeError(`URL parameter model: expected ${Object.keys(DEMO_MODELS).join(" or ")}, got '${model}'`);
    s.model = model as DemoModel;
  }
  const precision = p.get("precision");
  if (precision !== null) {
    if (!["fp32", "w8a8", "w6a6", "w4a4"].includes(precision)) throw new RangeError(`URL parameter precision: expected fp32, w8a8, w6a6 or w4a4, got '${precision}'`);
    s.precision = precision as Precision;
  }
  const exec = p.get("exec");
  if (exec !== null) {
    if (exec !== "simulated" && exec !== "integer") throw new RangeError(`URL parameter exec: expected simulated or integer, got '${exec}'`);
    s.exec = exec;
  }
  const corruptions = p.get("corruptions");
  if (corruptions !== null) s.corruptions = parseCorruptions(corruptions, "URL parameter corruptions");
  const batches = p.get("batches");
  if (batches !== null) s.batchesPerDomain = int(batches, "batches", 1, 1000);
  const batch = p.get("batch");
  if (batch !== null) s.batchSize = int(batch, "batch", 1, 1024);
  const severity = p.get("severity");
  if (severity !== null) s.severity = int(severity, "severity", 1, 5);
  const seed = p.get("seed");
  if (seed !== null) s.seed = int(seed, "seed", 0, 2 ** 31 - 1);
  const source = p.get("source");
  if (source !== null) s.sourceImages = int(source, "source", 1, 10000);
  s.backend = p.get("backend") ?? "";
  s.autorun = p.get("autorun") === "1";
  return s;
}
