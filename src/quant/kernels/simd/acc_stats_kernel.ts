// Per-plane statistics of int32 accumulators, emitted as WebAssembly SIMD128, for BatchNorm with batch statistics in
// the fused ResNet pipeline (src/quant/fused): for each of `planes` consecutive planes of P int32 values at `src`,
//   out[3 q]     = sum_i acc[i]        (f64; every partial sum exact while below 2^53)
//   out[3 q + 1] = sum_i acc[i]^2      (f64; exact while |acc| < 2^26 and the partial sums stay below 2^53)
//   out[3 q + 2] = max_i |acc[i]|      (f64 of the unsigned maximum, so |-2^31| = 2^31)
// Four lanes per step (two f64x2 halves), the P % 4 tail one value at a time; the lane sums are added at the plane's
// end. Where everything is exact (ResNet accumulators: |acc| < 2^20), the result equals the sequential float64 loop
// of accumulateStats (resnet_ops.ts), its reference, bit for bit.
import { FunctionBuilder } from "../../../wasm/emitter.js";
import type { ModuleBuilder } from "../../../wasm/module.js";

/** accStats(src, planes, p, out): byte addresses; out receives 3 float64 per plane. */
export type AccStatsFn = (src: number, planes: number, p: number, out: number) => void;

/** Bytes of out per plane. */
export const ACC_STATS_BYTES = 24;

export function emitAccStats(): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32"], []);
  const [src, planes, p, out] = f.params;
  const q = f.local("i32"); // plane index
  const end = f.local("i32"); // byte address past the plane
  const vecEnd = f.local("i32"); // past its last full group of 4
  const v = f.local("v128");
  const lo = f.local("v128");
  const hi = f.local("v128");
  const s = f.local("v128");
  const ss = f.local("v128");
  const m = f.local("v128");
  const x = f.local("f64");
  const sum = f.local("f64");
  const sq = f.local("f64");
  const mx = f.local("i32");
  const a = f.local("i32");
  const zero = new Uint8Array(16);
  // swaps the two 64-bit halves, so convert_low reads lanes 2, 3
  const swap = Uint8Array.from([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);

  const done = f.block();
  f.get(planes).op("i32.eqz").brIf(done);
  const planeLoop = f.loop();
  {
    f.get(src).get(p).i32(2).op("i32.shl").op("i32.add").set(end);
    f.get(src).get(p).i32(-4).op("i32.and").i32(2).op("i32.shl").op("i32.add").set(vecEnd);
    f.op("v128.const", zero).set(s);
    f.op("v128.const", zero).set(ss);
    f.op("v128.const", zero).set(m);
    const vecDone = f.block();
    f.get(src).get(vecEnd).op("i32.ge_u").brIf(vecDone);
    const vecLoop = f.loop();
    {
      f.get(src).op("v128.load", 0, 2).set(v);
      f.get(v).op("f64x2.convert_low_i32x4_s").set(lo);
      f.get(v).get(v).op("i8x16.shuffle", swap).op("f64x2.convert_low_i32x4_s").set(hi);
      f.get(s).get(lo).op("f64x2.add").get(hi).op("f64x2.add").set(s);
      f.get(ss).get(lo).get(lo).op("f64x2.mul").op("f64x2.add").get(hi).get(hi).op("f64x2.mul").op("f64x2.add").set(ss);
      f.get(m).get(v).op("i32x4.abs").op("i32x4.max_u").set(m);
      f.get(src).i32(16).op("i32.add").tee(src).get(vecEnd).op("i32.lt_u").brIf(vecLoop);
    }
    f.end();
    f.end();
    // lane sums, then the tail
    f.get(s).op("f64x2.extract_lane", 0).get(s).op("f64x2.extract_lane", 1).op("f64.add").set(sum);
    f.get(ss).op("f64x2.extract_lane", 0).get(ss).op("f64x2.extract_lane", 1).op("f64.add").set(sq);
    f.get(m).op("i32x4.extract_lane", 0).set(mx);
    for (const lane of [1, 2, 3]) {
      f.get(m).op("i32x4.extract_lane", lane).tee(a).get(mx).get(a).get(mx).op("i32.gt_u").op("select").set(mx);
    }
    const tailDone = f.block();
    f.get(src).get(end).op("i32.ge_u").brIf(tailDone);
    const tailLoop = f.loop();
    {
      f.get(src).op("i32.load", 0, 2).tee(a).op("f64.convert_i32_s").tee(x);
      f.get(sum).op("f64.add").set(sum);
      f.get(x).get(x).op("f64.mul").get(sq).op("f64.add").set(sq);
      // |a| as unsigned: (a ^ (a >> 31)) - (a >> 31)
      f.get(a).get(a).i32(31).op("i32.shr_s").op("i32.xor").get(a).i32(31).op("i32.shr_s").op("i32.sub").tee(a);
      f.get(mx).get(a).get(mx).op("i32.gt_u").op("select").set(mx);
      f.get(src).i32(4).op("i32.add").tee(src).get(end).op("i32.lt_u").brIf(tailLoop);
    }
    f.end();
    f.end();
    f.get(out).get(sum).op("f64.store", 0, 3);
    f.get(out).get(sq).op("f64.store", 8, 3);
    f.get(out).get(mx).op("f64.convert_i32_u").op("f64.store", 16, 3);
    f.get(out).i32(ACC_STATS_BYTES).op("i32.add").set(out);
    f.get(q).i32(1).op("i32.add").tee(q).get(planes).op("i32.lt_u").brIf(planeLoop);
  }
  f.end();
  f.end();
  return f;
}

export function addAccStatsFunctions(m: ModuleBuilder): void {
  m.addFunction(emitAccStats(), "accStats");
}
