// Per-tensor fake quantization (qtensor.ts fakeQuantize) emitted as WebAssembly SIMD128, four float32 lanes at a time,
// in place over n floats (n a multiple of 4) at byte address p:
//   x[i] = float32( s * (clamp(roundHalfToEven(x[i] / s) + z, qmin, qmax) - z) ),  NaN -> +0
// Bit-identical with the scalar loop because every step is the same IEEE 754 operation on the same doubles:
//   - x promotes to f64 exactly (f64x2.promote_low_f32x4; the high pair is first moved down by a shuffle);
//   - x / s is one correctly rounded f64 division (f64x2.div), as JS `x / scale`;
//   - f64x2.nearest rounds ties to even, as roundHalfToEven; it keeps -0 (roundHalfToEven does not), but -0 + z is
//     +0 for z = +0 and z otherwise, so the code q = r + z is never -0 and q - z is +0 wherever q == z;
//   - pmax / pmin clamp like `q < qmin ? qmin : q > qmax ? qmax : q` (no NaN reaches them: NaN lanes of x are zeroed
//     first, and x / s with finite s > 0 is NaN only for NaN x); +-Infinity clamp to qmax / qmin;
//   - s * (q - z) is exact in f64 (24-bit s times a 9-bit integer), and demote rounds it to nearest even, as a
//     Float32Array store does.
import { FunctionBuilder, type Local } from "../../../wasm/emitter.js";
import type { ModuleBuilder } from "../../../wasm/module.js";

/** fakeQuantPerTensor(p, n, s, z, qmin, qmax): bytes [p, p + 4n) in place; n % 4 == 0; s, z, qmin, qmax as f64. */
export type FakeQuantFn = (p: number, n: number, s: number, z: number, qmin: number, qmax: number) => void;

/** Moves bytes 8..15 (lanes 2, 3 of an f32x4) to bytes 0..7, so promote_low converts them. */
const HIGH_PAIR = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Low 8 bytes of the first operand then low 8 bytes of the second: two demoted pairs back into one f32x4. */
const JOIN_PAIRS = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

function emitFakeQuantPerTensor(): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "f64", "f64", "f64", "f64"], []);
  const [p, n, s, z, qmin, qmax] = f.params;
  const v128 = (): Local => f.local("v128");
  const [sV, zV, minV, maxV, x, lo, hi] = [v128(), v128(), v128(), v128(), v128(), v128(), v128()];
  const end = f.local("i32");
  f.get(s).op("f64x2.splat").set(sV);
  f.get(z).op("f64x2.splat").set(zV);
  f.get(qmin).op("f64x2.splat").set(minV);
  f.get(qmax).op("f64x2.splat").set(maxV);
  f.get(p).get(n).i32(4).op("i32.mul").op("i32.add").set(end);

  /** half = float32(s * (clamp(nearest(half / s) + z) - z)) in lanes 0, 1 (lanes 2, 3 zero) of an f32x4. */
  const pair = (half: Local): void => {
    f.get(half).get(sV).op("f64x2.div").op("f64x2.nearest").get(zV).op("f64x2.add");
    f.get(minV).op("f64x2.pmax").get(maxV).op("f64x2.pmin"); // pmax(q, qmin) = q < qmin ? qmin : q, then the top
    f.get(zV).op("f64x2.sub").get(sV).op("f64x2.mul").op("f32x4.demote_f64x2_zero").set(half);
  };

  const exit = f.block();
  f.get(p).get(end).op("i32.ge_u").brIf(exit);
  const loop = f.loop();
  // x = load, NaN lanes -> +0 (eq(x, x) is all-ones except on NaN)
  f.get(p).op("v128.load", 0, 2).tee(x).get(x).op("f32x4.eq").get(x).op("v128.and").tee(x);
  f.op("f64x2.promote_low_f32x4").set(lo);
  f.get(x).get(x).op("i8x16.shuffle", HIGH_PAIR).op("f64x2.promote_low_f32x4").set(hi);
  pair(lo);
  pair(hi);
  f.get(p).get(lo).get(hi).op("i8x16.shuffle", JOIN_PAIRS).op("v128.store", 0, 2);
  f.get(p).i32(16).op("i32.add").tee(p);
  f.get(end).op("i32.lt_u").brIf(loop);
  f.end();
  f.end();
  return f;
}

/** Adds the kernel, exported as "fakeQuantPerTensor". */
export function addFakeQuantizeFunctions(m: ModuleBuilder): void {
  m.addFunction(emitFakeQuantPerTensor(), "fakeQuantPerTensor");
}
