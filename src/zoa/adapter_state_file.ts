// Adapter states (ZOA bank, FOA / T3A / TENT state) as safetensors files on disk (Node).
import { readSafetensors, writeSafetensors } from "../io/safetensors.js";
import type { AdapterState } from "./adapter.js";
import { stateFromFile } from "./zoa_state.js";

/** Writes an adapter state as safetensors (atomically). */
export function writeAdapterState(path: string, state: AdapterState): void {
  writeSafetensors(path, state.tensors, state.metadata);
}

/** Reads an adapter state written by writeAdapterState. */
export function readAdapterState(path: string): AdapterState {
  return stateFromFile(readSafetensors(path));
}
