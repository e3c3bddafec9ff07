// Per-test time limits that scale with the backend under test: the naive reference kernels and gpu.js's cpu
// mode (ZOA_TEST_BACKEND=reference|gpujs, see vitest.config.ts) get 15x the limit set for simd.
const SLOW = ["reference", "gpujs"].includes(process.env.ZOA_TEST_BACKEND ?? "");

/** `ms`, or 15 * ms on a slow backend. */
export function timeLimit(ms: number): number {
  return SLOW ? 15 * ms : ms;
}
