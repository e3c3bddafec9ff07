// The suite on a slow backend: the naive reference kernels and gpu.js's cpu mode (ZOA_TEST_BACKEND=reference
// or gpujs, see vitest.config.ts and tools/test_backends.mjs) run 10-100x slower than simd. Per-test time
// limits scale by 15 there, and the few tests that stream hundreds of real images through a real model use a
// smaller prefix of the same data (printed), with the same assertions.
const BACKEND = process.env.ZOA_TEST_BACKEND ?? "";
export const SLOW_BACKEND = ["reference", "gpujs"].includes(BACKEND);

/** `ms`, or 15 * ms on a slow backend. */
export function timeLimit(ms: number): number {
  return SLOW_BACKEND ? 15 * ms : ms;
}

/** `n` images, or `slowN` on a slow backend (with a printed line naming the test and both counts). */
export function imageCount(what: string, n: number, slowN: number): number {
  if (!SLOW_BACKEND || slowN >= n) return n;
  console.log(`[slow backend ${BACKEND}] ${what}: the first ${slowN} images instead of ${n}`);
  return slowN;
}
