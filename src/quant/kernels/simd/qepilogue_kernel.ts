// The fused conv output stage (kernels/cpu/qepilogue.ts's contract) emitted as WebAssembly SIMD128, four int32 lanes
// at a time, over rows of P elements that share a channel (an NCHW chunk [n, K, P]: row r has channel r % K).
// multiplyByQuantizedMultiplier (TFLite double rounding) per lane, exactly:
//   SRDHM(x << left, M) = floor((x * M + 2^(30 - left)) / 2^(31 - left))   (one i64 product, no left-shift overflow)
//   then roundingDivideByPOT(., right) = (y >> right) + ((y & mask) > (mask >> 1) + (y < 0)),  mask = 2^right - 1
// The first identity holds because gemmlowp's SRDHM rounds ties toward +infinity, i.e. it is floor((ab + 2^30) / 2^31)
// for both signs; it equals the reference wherever the reference's x << left fits int32 (which the planner ensures).
// Tables in memory, per channel 32 bytes (writeEpilogueTable in qepilogue.ts):
//   [0] bias  [4] multiplier  [8] rsh = 31 - left  [12] right  [16] post  [20] mask  [24..31] nudge = 2^(rsh - 1) (i64)
// Call descriptor, 16 int32 at `desc`: acc rows P K tab sc scTab lo hi vOut cOut cExp cZ cMin cMax accShift.
// Rows whose P is not a multiple of 4 end with one vector computed over the row's tail (reading up to 12 bytes past
// it: buffers need that slack) of which only the first P % 4 lanes are stored.
import { FunctionBuilder, type Local } from "../../../wasm/emitter.js";
import type { ModuleBuilder } from "../../../wasm/module.js";
import { bump, whileLt } from "./qgemm_kernel.js";

/** The residual operand: none, rescaled by one multiplier (table at scTab), or added as is. */
export type ScMode = 0 | 1 | 2;
/** Codes output: none, clamp(v + z) (exponent 0), or clamp(RDPOT(v, cExp) + z). */
export type CodesMode = 0 | 1 | 2;

export const EPILOGUE_TABLE_BYTES = 32;
export const EPILOGUE_DESC_INTS = 16;
/** Bytes the kernel may read past the end of the accumulator and residual buffers. */
export const EPILOGUE_SLACK = 16;

/** The export name of one variant. */
export function epilogueName(sc: ScMode, values: boolean, codes: CodesMode): string {
  return `qepi_s${sc}_v${values ? 1 : 0}_c${codes}`;
}

/** The low 32 bits of the four i64 lanes of two vectors, as one i32x4. */
const LOW_WORDS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];

interface Mbqm {
  mul: Local;
  nudge: Local;
  rsh: Local;
  right: Local;
  mask: Local;
  half: Local;
}

/** x = roundingDivideByPOT(x, right) lane-wise (right an i32 local, mask = 2^right - 1, half = mask >> 1 splatted). */
function emitRdpot(f: FunctionBuilder, x: Local, right: Local, mask: Local, half: Local): void {
  f.get(x).get(right).op("i32x4.shr_s");
  f.get(x).get(mask).op("v128.and");
  f.get(half).get(x).i32(31).op("i32x4.shr_s").op("i32x4.sub"); // half + (x < 0)
  f.op("i32x4.gt_s").op("i32x4.sub").set(x); // (x >> right) - (-1 where the remainder rounds up)
}

/** x = multiplyByQuantizedMultiplier(x, M, shift) lane-wise; see the file header. */
function emitMbqm(f: FunctionBuilder, x: Local, m: Mbqm, lo: Local, hi: Local): void {
  f.get(x).get(m.mul).op("i64x2.extmul_low_i32x4_s").get(m.nudge).op("i64x2.add").get(m.rsh).op("i64x2.shr_s").set(lo);
  f.get(x).get(m.mul).op("i64x2.extmul_high_i32x4_s").get(m.nudge).op("i64x2.add").get(m.rsh).op("i64x2.shr_s").set(hi);
  f.get(lo).get(hi).op("i8x16.shuffle", LOW_WORDS).set(x);
  emitRdpot(f, x, m.right, m.mask, m.half);
}

/** Loads one 32-byte table entry at `at` into the splatted locals of m (and, when given, bias and post). */
function emitLoadEntry(f: FunctionBuilder, at: Local, m: Mbqm, bias: Local | null, post: Local | null): void {
  if (bias) f.get(at).op("v128.load32_splat", 0, 2).set(bias);
  f.get(at).op("v128.load32_splat", 4, 2).set(m.mul);
  f.get(at).op("i32.load", 8, 2).set(m.rsh);
  f.get(at).op("i32.load", 12, 2).set(m.right);
  if (post) f.get(at).op("v128.load32_splat", 16, 2).set(post);
  f.get(at).op("v128.load32_splat", 20, 2).set(m.mask);
  f.get(m.mask).i32(1).op("i32x4.shr_s").set(m.half);
  f.get(at).op("v128.load64_splat", 24, 3).set(m.nudge);
}

function emitEpilogue(sc: ScMode, values: boolean, codes: CodesMode): FunctionBuilder {
  const f = new FunctionBuilder(["i32"], []);
  const [desc] = f.params;
  const i32 = (): Local => f.local("i32");
  const v128 = (): Local => f.local("v128");
  const [pa, rows, p, k, tab, ps, scTab, pv, pc, cExp] = [i32(), i32(), i32(), i32(), i32(), i32(), i32(), i32(), i32(), i32()];
  const [row, ch, j, p4, tail, tp, accShift] = [i32(), i32(), i32(), i32(), i32(), i32(), i32()];
  const [loV, hiV, czV, cminV, cmaxV, cmaskV, chalfV, biasV, postV] = [v128(), v128(), v128(), v128(), v128(), v128(), v128(), v128(), v128()];
  const [x, s, lo64, hi64] = [v128(), v128(), v128(), v128()];
  const main: Mbqm = { mul: v128(), nudge: v128(), rsh: i32(), right: i32(), mask: v128(), half: v128() };
  const res: Mbqm = { mul: v128(), nudge: v128(), rsh: i32(), right: i32(), mask: v128(), half: v128() };
  const field = (i: number): FunctionBuilder => f.get(desc).op("i32.load", 4 * i, 2);

  field(0).set(pa);
  field(1).set(rows);
  field(2).set(p);
  field(3).set(k);
  field(4).set(tab);
  field(5).set(ps);
  field(6).set(scTab);
  field(7).op("i32x4.splat").set(loV);
  field(8).op("i32x4.splat").set(hiV);
  field(9).set(pv);
  field(10).set(pc);
  field(11).set(cExp);
  field(12).op("i32x4.splat").set(czV);
  field(13).op("i32x4.splat").set(cminV);
  field(14).op("i32x4.splat").set(cmaxV);
  field(15).set(accShift);
  f.i32(1).get(cExp).op("i32.shl").i32(1).op("i32.sub").op("i32x4.splat").set(cmaskV);
  f.get(cmaskV).i32(1).op("i32x4.shr_s").set(chalfV);
  if (sc === 1) emitLoadEntry(f, scTab, res, null, null);
  f.get(p).i32(-4).op("i32.and").set(p4);
  f.get(p).get(p4).op("i32.sub").set(tail);

  /** One vector of 4 outputs at the current pointers; `lanes` null: store all 4, else the first `lanes` (an i32 local). */
  const body = (lanes: Local | null): void => {
    f.get(pa).op("v128.load", 0, 2).get(accShift).op("i32x4.shl").get(biasV).op("i32x4.add").set(x);
    emitMbqm(f, x, main, lo64, hi64);
    f.get(x).get(postV).op("i32x4.add").set(x);
    if (sc === 1) {
      f.get(ps).op("v128.load", 0, 2).set(s);
      emitMbqm(f, s, res, lo64, hi64);
      f.get(x).get(s).op("i32x4.add").set(x);
    } else if (sc === 2) {
      f.get(x).get(ps).op("v128.load", 0, 2).op("i32x4.add").set(x);
    }
    f.get(x).get(loV).op("i32x4.max_s").get(hiV).op("i32x4.min_s").set(x);
    if (values) {
      if (!lanes) f.get(pv).get(x).op("v128.store", 0, 2);
      else {
        for (let l = 0; l < 3; l++) {
          f.get(lanes).i32(l).op("i32.gt_u").if();
          f.get(pv).get(x).op("i32x4.extract_lane", l).op("i32.store", 4 * l, 2);
          f.end();
        }
      }
    }
    if (codes !== 0) {
      if (codes === 2) emitRdpot(f, x, cExp, cmaskV, chalfV);
      f.get(x).get(czV).op("i32x4.add").get(cminV).op("i32x4.max_s").get(cmaxV).op("i32x4.min_s").set(x);
      if (!lanes) {
        f.get(pc).get(x).get(x).op("i16x8.narrow_i32x4_s").get(x).get(x).op("i16x8.narrow_i32x4_s").op("i8x16.narrow_i16x8_u").op("v128.store32_lane", 0, 0);
      } else {
        for (let l = 0; l < 3; l++) {
          f.get(lanes).i32(l).op("i32.gt_u").if();
          f.get(pc).get(x).op("i32x4.extract_lane", l).op("i32.store8", l, 0);
          f.end();
        }
      }
    }
  };
  const advance = (n: number | Local): void => {
    const bytes4 = typeof n === "number" ? 4 * n : null;
    if (bytes4 !== null) {
      bump(f, pa, bytes4);
      if (sc !== 0) bump(f, ps, bytes4);
      if (values) bump(f, pv, bytes4);
      if (codes !== 0) bump(f, pc, n as number);
      return;
    }
    const l = n as Local;
    const step = (ptr: Local, scale: number): void => {
      f.get(ptr).get(l).i32(scale).op("i32.mul").op("i32.add").set(ptr);
    };
    step(pa, 4);
    if (sc !== 0) step(ps, 4);
    if (values) step(pv, 4);
    if (codes !== 0) step(pc, 1);
  };

  // rows >= 1 and P >= 1 (the driver calls with at least one element)
  const loopRow = f.loop();
  f.get(tab).get(ch).i32(32).op("i32.mul").op("i32.add").set(tp);
  emitLoadEntry(f, tp, main, biasV, postV);
  f.i32(0).set(j);
  whileLt(f, j, p4, 4, () => {
    body(null);
    advance(4);
  });
  f.get(tail).if();
  body(tail);
  advance(tail);
  f.end();
  // next channel, wrapping at K
  f.get(ch).i32(1).op("i32.add").tee(ch).get(k).op("i32.eq").if();
  f.i32(0).set(ch);
  f.end();
  f.get(row).i32(1).op("i32.add").tee(row);
  f.get(rows).op("i32.lt_u").brIf(loopRow);
  f.end();
  return f;
}

/** Every variant with an output (values, codes or both), exported under epilogueName(...). */
export function addQEpilogueFunctions(m: ModuleBuilder): void {
  for (const sc of [0, 1, 2] as const) {
    for (const values of [false, true]) {
      for (const codes of [0, 1, 2] as const) {
        if (!values && codes === 0) continue;
        m.addFunction(emitEpilogue(sc, values, codes), epilogueName(sc, values, codes));
      }
    }
  }
}
