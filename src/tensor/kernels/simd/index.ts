// The kernels of the "simd" backend: matmul and conv2d on the WebAssembly SIMD128 GEMM (gemm.ts), whose
// micro-kernel and packing routines are emitted from TypeScript at first use (src/wasm). Null where the
// engine has no SIMD128, so the backend list can leave the backend out.
import type { KernelTable } from "../../backend.js";
import { simdSupported } from "../../../wasm/features.js";
import { matmulWithGemm } from "../cpu/matmul.js";
import { conv2dSimd } from "./conv.js";
import { gemmSimd } from "./gemm.js";

export { gemmSimd } from "./gemm.js";
export { conv2dSimd } from "./conv.js";

export function simdKernels(): Partial<KernelTable> | null {
  if (!simdSupported()) return null;
  return { matmul: matmulWithGemm(gemmSimd), conv2d: conv2dSimd };
}
