import { defineConfig } from "vitest/config";

// ZOA_TEST_BACKEND (test/helpers/backend_setup.ts) runs the whole suite on one backend. The naive reference
// kernels and gpu.js's cpu mode in Node are 10-100x slower than simd on the 224 px goldens, so their per-test
// limit is 30 minutes instead of 2 (tools/test_backends.mjs runs the suite once per backend).
const slow = ["reference", "gpujs"].includes(process.env.ZOA_TEST_BACKEND ?? "");
const limit = slow ? 1_800_000 : 120_000;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/helpers/backend_setup.ts"],
    testTimeout: limit,
    hookTimeout: limit,
    pool: "forks",
    reporters: ["default"],
  },
});
