// vitest setup file: ZOA_TEST_BACKEND=<name> runs every test file on that backend (cpu, simd, reference, gpujs),
// so the same suite checks each backend (`npm run test:backends`). Unset: the engine's default (auto).
import { setBackend } from "../../src/tensor/backends.js";

const name = process.env.ZOA_TEST_BACKEND;
if (name) setBackend(name);
