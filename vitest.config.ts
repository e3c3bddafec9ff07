import { defineConfig } from "vitest/config";
import { timeLimit } from "./test/helpers/slow_backend.js";

// ZOA_TEST_BACKEND (test/helpers/backend_setup.ts) runs the whole suite on one backend. The naive reference
// kernels and gpu.js's cpu mode in Node are 10-100x slower than simd on the 224 px goldens, so their per-test
// limit is 15x longer (test/helpers/slow_backend.ts; tools/test_backends.mjs runs the suite once per backend).
const limit = timeLimit(120_000);

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
