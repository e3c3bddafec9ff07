// CIFAR-10 binary files on disk (Node). The format, ImageSet and normalizeBatch are in cifar_format.ts (no Node
// imports), re-exported here.
import { readFileSync } from "node:fs";
import { DataFormatError, type ImageSet, parseCifar } from "./cifar_format.js";

export * from "./cifar_format.js";

export function readCifar(file: string, limit?: number): ImageSet {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataFormatError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseCifar(bytes, file, limit);
}
