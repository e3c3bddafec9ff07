// The integer kernels on WebAssembly SIMD128 (GEMM, conv via fused im2col packing or Winograd F(2x2, 3x3),
// batched GEMM for attention), emitted from TypeScript at first use (src/wasm). Bit-exact with the reference loops of kernels/cpu, so a caller
// may swap them in wherever the engine has SIMD128; null where it does not.
import { simdSupported } from "../../../wasm/features.js";
import type { qconv2dFast } from "../cpu/qconv2d.js";
import type { qbmmFast, qgemmFast } from "../cpu/qgemm.js";
import { qbmmSimd, qgemmSimd } from "./qgemm.js";
import { qconv2dWinograd } from "./qwinograd.js";

export { qconv2dSimd, qconv2dSimdInto } from "./qconv2d.js";
export { qbmmSimd, qgemmSimd, qgemmSimdInto } from "./qgemm.js";
export { qconv2dWinograd, winogradApplies } from "./qwinograd.js";

/** The integer kernel set: same signatures and results as qgemmFast / qconv2dFast / qbmmFast. */
export interface QKernels {
  qgemm: typeof qgemmFast;
  qconv2d: typeof qconv2dFast;
  qbmm: typeof qbmmFast;
}

/**
 * The SIMD128 integer kernels, or null without SIMD128.
 * @example const Q = simdQKernels() ?? { qgemm: qgemmFast, qconv2d: qconv2dFast, qbmm: qbmmFast };
 */
export function simdQKernels(): QKernels | null {
  if (!simdSupported()) return null;
  // convs: Winograd F(2x2, 3x3) where it applies (3x3 stride 1, ...), else the direct im2col conv; both bit-exact
  return { qgemm: qgemmSimd, qconv2d: qconv2dWinograd, qbmm: qbmmSimd };
}
