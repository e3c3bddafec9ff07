// vitest setup file: ZOA_TEST_BACKEND=<name> runs every test file on that backend (cpu, simd, reference, gpujs),
// so the same suite checks each backend (`npm run test:backends`). It also sets ZOA_BACKEND, the default of the
// CLI's --backend, so the `zoa` commands the CLI tests spawn run on the same backend. Unset: the engine's
// default (auto).
import { setBackend } from "../../src/tensor/backends.js";

const name = process.env.ZOA_TEST_BACKEND;
if (name) {
  setBackend(name);
  process.env.ZOA_BACKEND = name;
}
