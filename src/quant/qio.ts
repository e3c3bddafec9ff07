// Saving and loading quantized models as safetensors files (Node). The layout (tensors, metadata) and the
// conversions are in qio_format.ts (no Node imports), re-exported here.
import { type SafetensorsFile, readSafetensors, writeSafetensors } from "../io/safetensors.js";
import type { QuantizedModel } from "./qmodel.js";
import { quantizedModelFromFile, quantizedModelTensors } from "./qio_format.js";

export * from "./qio_format.js";

/** Writes `q` (atomically) with the float model's metadata `baseMetadata`. */
export function saveQuantizedModel(path: string, q: QuantizedModel, baseMetadata: Readonly<Record<string, string>>): void {
  const { tensors, metadata } = quantizedModelTensors(q, baseMetadata);
  writeSafetensors(path, tensors, metadata);
}

/** Reads a file written by saveQuantizedModel. */
export function loadQuantizedModel(pathOrFile: string | SafetensorsFile): QuantizedModel {
  return quantizedModelFromFile(typeof pathOrFile === "string" ? readSafetensors(pathOrFile) : pathOrFile);
}
