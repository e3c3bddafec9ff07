// Safetensors files on disk (Node): read and parse, encode and write atomically. The format itself (parse,
// serialize, typed views) is in safetensors_format.ts, which has no Node imports and is re-exported here.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { type SafetensorsFile, type WritableTensor, SafetensorsError, encodeSafetensors, parseSafetensors } from "./safetensors_format.js";

export * from "./safetensors_format.js";

/** Reads and parses a file; an unreadable path raises SafetensorsError naming it. */
export function readSafetensors(path: string): SafetensorsFile {
  let buf: Uint8Array;
  try {
    const b = readFileSync(path);
    buf = new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // plain Uint8Array views, not Buffer
  } catch (e) {
    throw new SafetensorsError(path, `cannot read: ${(e as Error).message}`);
  }
  return parseSafetensors(buf, path);
}

/** Writes a safetensors file atomically: to `path.tmp-<pid>`, then renamed over `path`. */
export function writeSafetensors(path: string, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): void {
  const bytes = encodeSafetensors(tensors, metadata, path);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // tmp was never created or is already gone
    }
    throw new SafetensorsError(path, `cannot write: ${(e as Error).message}`);
  }
}
