// Runs a describe block once per tensor backend (the model-level suites every backend must pass, as the op suites
// do): describe.each(TEST_BACKENDS) with useBackend(name) inside. gpujs runs in gpu.js's cpu mode under Node
// (headless-gl is not installed), on WebGL2 in test/browser/gpujs.test.ts.
import { afterAll, beforeAll } from "vitest";
import { backendNames, getBackend, setBackend } from "../../src/tensor/backends.js";

/** Every backend of this engine (simd where WebAssembly SIMD128 exists, cpu, reference, gpujs). */
export const TEST_BACKENDS: readonly string[] = backendNames();

/** Makes `name` the active backend for the tests of the enclosing describe block, then restores the previous one. */
export function useBackend(name: string): void {
  let prev = "";
  beforeAll(() => {
    prev = getBackend().name;
    setBackend(name);
  });
  afterAll(() => {
    setBackend(prev);
  });
}
