// Flags shared by every command that runs a model: the checkpoint, optional PTQ (or an already-quantized file),
// the execution mode and the backend. `prepareModel` turns them into a Classifier plus the LayerOps to run it.
import { type ImageSet, normalizeBatch, readCifar } from "../data/cifar.js";
import { readSafetensors } from "../io/safetensors.js";
import type { LayerOps } from "../models/layers.js";
import { modelFromSafetensors } from "../models/load.js";
import type { Classifier } from "../models/model.js";
import { type CalibMethod, QUANT_PRESETS, type QuantPreset, calibrateModel, quantConfig } from "../quant/ptq.js";
import { isQuantizedFile, loadQuantizedModel } from "../quant/qio.js";
import { type ExecMode, QuantizedModel } from "../quant/qmodel.js";
import type { SafetensorsFile } from "../io/safetensors.js";
import { setBackend } from "../tensor/backends.js";
import { type FlagSpecs, UsageError } from "./args.js";
import { requireFile } from "./common.js";

/** --backend when not given: $ZOA_BACKEND (so a test run or a shell can pick the backend of every command), else auto. */
export const DEFAULT_BACKEND: string = process.env.ZOA_BACKEND || "auto";

export const MODEL_FLAGS = {
  model: { kind: "string", help: "checkpoint (.safetensors): timm ViT, CIFAR ResNet, torchvision ResNet, or a `zoa quantize` output" },
  quant: { kind: "string", help: "post-training quantization: w8a8|w6a6|w4a4|fp32 (needs --calib)" },
  wbits: { kind: "int", help: "weight bits (overrides the preset)" },
  abits: { kind: "int", help: "activation bits (overrides the preset)" },
  "edge-bits": { kind: "int", default: 8, help: "bits of the first conv and last linear (0: same as the rest)" },
  calib: { kind: "string", help: "CIFAR-10 binary file of clean calibration images" },
  "calib-n": { kind: "int", default: 32, help: "calibration images (the first N of --calib)" },
  "calib-method": { kind: "string", default: "minmax", help: "minmax|percentile|search" },
  exec: { kind: "string", default: "simulated", help: "quantized execution: simulated (fake-quant) | integer" },
  "no-fuse": { kind: "bool", help: "integer ResNets: run layer by layer instead of the fused pipeline (to compare the two)" },
  backend: { kind: "string", default: DEFAULT_BACKEND, help: "auto|simd|cpu|reference|gpujs (simd where available; gpujs: gpu.js kernels, in Node its cpu mode unless headless-gl loads); default: $ZOA_BACKEND, else auto" },
} satisfies FlagSpecs;

export interface ModelFlagValues {
  model?: string;
  backend?: string;
  quant?: string;
  wbits?: number;
  abits?: number;
  "edge-bits"?: number;
  calib?: string;
  "calib-n"?: number;
  "calib-method"?: string;
  exec?: string;
  "no-fuse"?: boolean;
}

export interface PreparedModel {
  model: Classifier;
  /** Execution of quantized layers (undefined: float). */
  layers: LayerOps | undefined;
  quantized: QuantizedModel | null;
  file: SafetensorsFile;
  /** e.g. "fp32", "w6a6 minmax simulated". */
  label: string;
  calibSeconds: number;
}

/**
 * Loads --model and applies --quant / --calib / --exec. Progress goes to `log`. `calibImages`, when given, supplies the
 * calibration images for the loaded model instead of the --calib file (`zoa demo` calibrates on generated images).
 */
export function prepareModel(
  command: string,
  f: ModelFlagValues,
  log: (m: string) => void = () => {},
  calibImages?: (model: Classifier) => ImageSet,
): PreparedModel {
  if (!f.model) throw new UsageError(`zoa ${command}: --model is required`);
  try {
    setBackend(f.backend ?? DEFAULT_BACKEND);
  } catch (e) {
    throw new UsageError(`zoa ${command}: --backend: ${(e as Error).message}`);
  }
  const file = readSafetensors(requireFile(command, "model", f.model));
  const exec = (f.exec ?? "simulated") as ExecMode;
  if (exec !== "simulated" && exec !== "integer") throw new UsageError(`zoa ${command}: --exec must be simulated or integer, got '${f.exec}'`);
  if (isQuantizedFile(file)) {
    if (f.quant && f.quant !== "fp32") throw new UsageError(`zoa ${command}: ${f.model} is already quantized; drop --quant`);
    const q = loadQuantizedModel(file);
    q.fuse = !f["no-fuse"];
    return { model: q.model, layers: q.layerOps(exec), quantized: q, file, label: `w${q.config.wbits}a${q.config.abits} (${f.model}) ${exec}`, calibSeconds: 0 };
  }
  const model = modelFromSafetensors(file);
  const wantQuant = (f.quant && f.quant !== "fp32") || f.wbits !== undefined || f.abits !== undefined;
  if (!wantQuant) return { model, layers: undefined, quantized: null, file, label: "fp32", calibSeconds: 0 };
  let bits: { wbits: number; abits: number };
  if (f.quant && f.quant !== "fp32") {
    if (!(f.quant in QUANT_PRESETS)) throw new UsageError(`zoa ${command}: --quant must be w8a8, w6a6, w4a4 or fp32, got '${f.quant}'`);
    bits = { ...QUANT_PRESETS[f.quant as QuantPreset] };
  } else bits = { wbits: 8, abits: 8 };
  if (f.wbits !== undefined) bits.wbits = f.wbits;
  if (f.abits !== undefined) bits.abits = f.abits;
  for (const [k, v] of Object.entries(bits)) if (!Number.isInteger(v) || v < 2 || v > 8) throw new UsageError(`zoa ${command}: --${k} must be 2..8, got ${v}`);
  const method = (f["calib-method"] ?? "minmax") as CalibMethod;
  if (!["minmax", "percentile", "search"].includes(method)) throw new UsageError(`zoa ${command}: --calib-method must be minmax, percentile or search, got '${method}'`);
  if (!f.calib && !calibImages) throw new UsageError(`zoa ${command}: --quant needs --calib FILE (clean calibration images)`);
  const calibN = f["calib-n"] ?? 32;
  if (calibN < 1) throw new UsageError(`zoa ${command}: --calib-n must be >= 1`);
  const calibSet = calibImages ? firstImages(calibImages(model), calibN) : readCifar(requireFile(command, "calib", f.calib as string), calibN);
  const edge = f["edge-bits"] ?? 8;
  const cfg = quantConfig(bits, { method, edgeBits: edge === 0 ? null : edge });
  const t0 = performance.now();
  const q = new QuantizedModel(model, cfg, calibrateModel(model, normalizeBatch(calibSet, 0, calibSet.count, model.mean, model.std), cfg, log));
  const calibSeconds = (performance.now() - t0) / 1000;
  q.fuse = !f["no-fuse"];
  return { model, layers: q.layerOps(exec), quantized: q, file, label: `w${bits.wbits}a${bits.abits} ${method} ${exec}`, calibSeconds };
}

/** The first n images of a set (a view, no copy). */
function firstImages(set: ImageSet, n: number): ImageSet {
  if (n >= set.count) return set;
  const per = set.channels * set.height * set.width;
  return { ...set, images: set.images.subarray(0, n * per), labels: set.labels.subarray(0, n), count: n };
}
