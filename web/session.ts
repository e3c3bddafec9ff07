// One adaptation session of the page: a model from safetensors bytes, optional post-training quantization
// (min-max, calibrated on clean procedural images of the training seed; a `zoa quantize` file keeps its own),
// source statistics on clean images, and the two adapters run side by side: NoAdapt and ZOA (spec defaults for the
// model and bit width).
import {
  type Adapter,
  type Classifier,
  type ExecMode,
  type Predictor,
  QUANT_PRESETS,
  type QuantPreset,
  QuantizedModel,
  type SourceStats,
  Zoa,
  calibrateModel,
  createAdapter,
  isQuantizedFile,
  modelFromSafetensors,
  normalizeBatch,
  parseSafetensors,
  quantConfig,
  quantizedModelFromFile,
  sourceStatistics,
} from "../src/browser.js";
import { proceduralRange } from "./stream.js";

/** Seed of the procedural training set (tools/train/train_demo.ts --data-seed); its test set is seed + 1. */
export const TRAIN_SEED = 1;
export const TEST_SEED = 2;
/** Clean images for calibration (zoa's --calib-n default). */
export const CALIB_IMAGES = 32;

export type Precision = "fp32" | QuantPreset;

export interface SessionOptions {
  precision: Precision;
  exec: ExecMode;
  seed: number;
  /** Clean images (training seed) for ZOA's source statistics. */
  sourceImages: number;
}

export interface Session {
  model: Classifier;
  predictor: Predictor;
  /** e.g. "w8a8 minmax simulated". */
  label: string;
  source: SourceStats;
  none: Adapter;
  zoa: Zoa;
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function predictorFor(model: Classifier, opts: SessionOptions): { predictor: Predictor; bits: number | null; label: string } {
  if (opts.precision === "fp32") return { predictor: { model }, bits: null, label: "fp32" };
  const bits = QUANT_PRESETS[opts.precision];
  const cfg = quantConfig(bits, { method: "minmax", edgeBits: 8 });
  const calib = proceduralRange(TRAIN_SEED, 0, CALIB_IMAGES, model.imageSize);
  const q = new QuantizedModel(model, cfg, calibrateModel(model, normalizeBatch(calib, 0, calib.count, model.mean, model.std), cfg));
  return { predictor: { model, layers: q.layerOps(opts.exec) }, bits: bits.abits, label: `${opts.precision} minmax ${opts.exec}` };
}

/** Builds the session; `log` gets one line per stage and the UI gets a frame between stages. */
export async function createSession(bytes: Uint8Array, file: string, opts: SessionOptions, log: (msg: string) => void): Promise<Session> {
  const f = parseSafetensors(bytes, file);
  const stored = isQuantizedFile(f) ? quantizedModelFromFile(f) : null;
  const model = stored ? stored.model : modelFromSafetensors(f);
  log(`model ${model.name} (${model.kind}, ${model.imageSize}x${model.imageSize}, ${model.numClasses} classes)`);
  await tick();
  const { predictor, bits, label } = stored
    ? { predictor: { model, layers: stored.layerOps(opts.exec) }, bits: stored.config.abits, label: `w${stored.config.wbits}a${stored.config.abits} from ${file} ${opts.exec}` }
    : predictorFor(model, opts);
  log(`precision ${label}${stored ? " (already quantized: the precision control is ignored)" : ""}`);
  await tick();
  const source = sourceStatistics(predictor, proceduralRange(TRAIN_SEED, 0, opts.sourceImages, model.imageSize), opts.sourceImages);
  log(`source statistics from ${source.images} clean images`);
  const ctx = { predictor, source, bits, seed: opts.seed, zoaVariant: "spec" as const };
  const none = createAdapter("none", ctx);
  const zoa = createAdapter("zoa", ctx);
  if (!(zoa instanceof Zoa)) throw new TypeError("createAdapter('zoa') did not return a Zoa");
  return { model, predictor, label, source, none, zoa };
}
