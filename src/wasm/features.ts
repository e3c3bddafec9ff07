// Feature probes: emit a tiny module that uses a feature and ask the engine whether it validates.
// SIMD128 is on by default since V8 9.1 (Node 16.4); relaxed SIMD is behind --experimental-wasm-relaxed-simd
// in Node 20 (V8 11.3) and on by default from V8 11.4, so kernels must fall back to mul + add.
import { FunctionBuilder } from "./emitter.js";
import { ModuleBuilder } from "./module.js";

const ZERO16 = new Uint8Array(16);

function validates(build: (f: FunctionBuilder) => void): boolean {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.validate !== "function") return false;
  const f = new FunctionBuilder([], []);
  build(f);
  try {
    const m = new ModuleBuilder();
    m.addFunction(f);
    return WebAssembly.validate(m.build());
  } catch {
    return false;
  }
}

let simd: boolean | undefined;
let relaxed: boolean | undefined;

/** Whether the engine accepts SIMD128 (v128 values and 0xFD-prefixed instructions). */
export function simdSupported(): boolean {
  simd ??= validates((f) => {
    f.i32(0).op("i32x4.splat").op("v128.const", ZERO16).op("f32x4.mul").op("drop");
  });
  return simd;
}

/** Whether the engine accepts relaxed SIMD's f32x4.relaxed_madd. */
export function relaxedSimdSupported(): boolean {
  relaxed ??= simdSupported() && validates((f) => {
    f.op("v128.const", ZERO16).op("v128.const", ZERO16).op("v128.const", ZERO16).op("f32x4.relaxed_madd").op("drop");
  });
  return relaxed;
}
