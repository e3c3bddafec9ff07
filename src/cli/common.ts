// Shared CLI plumbing: which errors are the user's (one line, exit 2), file checks, safe output writes.
import { existsSync, renameSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { SafetensorsError } from "../io/safetensors.js";
import { DataFormatError } from "../data/cifar.js";
import { ModelError } from "../models/params.js";
import { ShapeError } from "../tensor/shape.js";
import { UsageError } from "./args.js";

/** Errors caused by the user's input: printed as one line, exit code 2. */
export function isUserError(e: unknown): e is Error {
  return (
    e instanceof UsageError ||
    e instanceof SafetensorsError ||
    e instanceof DataFormatError ||
    e instanceof ModelError ||
    e instanceof ShapeError ||
    (e instanceof Error && e.name === "UserInputError")
  );
}

/** Throws a UsageError naming the flag when `file` does not exist or is not a regular file. */
export function requireFile(command: string, flag: string, file: string): string {
  if (!existsSync(file)) throw new UsageError(`zoa ${command}: --${flag} ${file}: no such file`);
  if (!statSync(file).isFile()) throw new UsageError(`zoa ${command}: --${flag} ${file}: not a file`);
  return file;
}

/** Refuses to write over any of the user's inputs; writes atomically through a temporary file. */
export function writeOutput(command: string, flag: string, file: string, data: Uint8Array | string, inputs: readonly string[]): void {
  const target = resolve(file);
  for (const input of inputs) {
    if (resolve(input) === target) throw new UsageError(`zoa ${command}: --${flag} ${file} would overwrite an input file`);
  }
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, target);
}
