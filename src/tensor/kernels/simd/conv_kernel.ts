// im2col emitted as WebAssembly, writing the GEMM's packed B layout directly (one pass instead of
// im2col + pack; the plain-TypeScript im2col alone cost more than the GEMM it fed on ResNet-20's small
// feature maps, ~2-4 ns per element).
// Cg=channels of the group kh,kw=kernel OH,OW=out spatial; W=input width; Kc=Cg*kh*kw; NR=B panel width.
//   col[r, p] = x[c, iy, ix] (0 outside), r = (c*kh + i)*kw + j, p = p0 + oy*OW + ox,
//   iy = oy*sh - ph + i*dh, ix = ox*sw + x0[j]
// stored packed (gemm_kernel.ts, PackedB): col[r, p] at dst + (p / NR)*panelBytes + r*NR*4 + (p % NR)*4,
// panelBytes = Kc*NR*4. Four columns are copied at a time with one v128 where the stride is 1 (lanes
// outside the input row masked to zero; the load may touch up to pw + 3 floats either side of an input
// plane, so the caller leaves that much slack around them). Two variants: emitIm2colPacked4 for stride 1
// and rows of whole fours (every ResNet/VGG-style 3x3 layer), emitIm2colPacked for the rest.
// The caller precomputes two small i32 tables in wasm memory, so the kernel has no division:
//   tabJ[j] = (x0[j] * 4, lo[j], hi[j]): ox in [lo, hi) has ix inside [0, W); the rest are zeros
//   tabY[i*OH + oy] = iy * W * 4, or -1 when iy is outside [0, H) (the whole output row is zeros)
import { FunctionBuilder, type Local } from "../../../wasm/emitter.js";
import { NR } from "./gemm_kernel.js";

/** im2colPacked(src, planeBytes, Cg, kh, kw, OH, OW, sw, tabJ, tabY, dst, panelBytes, p0); addresses in bytes. */
export type Im2colFn = (
  src: number,
  planeBytes: number,
  Cg: number,
  kh: number,
  kw: number,
  OH: number,
  OW: number,
  sw: number,
  tabJ: number,
  tabY: number,
  dst: number,
  panelBytes: number,
  p0: number,
) => void;

const IOTA = new Uint8Array(new Int32Array([0, 1, 2, 3]).buffer);

/** while (counter < end) { body; counter += step } (the test runs first). */
function whileLt(f: FunctionBuilder, counter: Local, end: Local, step: number, body: () => void): void {
  const exit = f.block();
  f.get(counter).get(end).op("i32.ge_s").brIf(exit);
  const loop = f.loop();
  body();
  f.get(counter).i32(step).op("i32.add").tee(counter);
  f.get(end).op("i32.lt_s").brIf(loop);
  f.end();
  f.end();
}

/** The locals a row body sees: the current output row's input address, bounds and packed position. */
interface RowState {
  f: FunctionBuilder;
  p: Local; // column of col at ox = 0 of this row; the body leaves it at the next row's
  ox: Local;
  s: Local; // input address of ox = 0 (may lie before the row: only [lo, hi) is read)
  lo: Local;
  hi: Local;
  loV: Local; // lo, hi splatted
  hiV: Local;
  iyOff: Local; // < 0: padding row
  rOff: Local; // r * NR * 4
  OW: Local;
  sw: Local;
  dst: Local;
  panelBytes: Local;
}

/** The loop nest over r = (c, i, j) and oy shared by both im2col variants; `row` emits one output row. */
function emitIm2colNest(row: (st: RowState) => void): FunctionBuilder {
  const f = new FunctionBuilder(Array(13).fill("i32"), []);
  const [src, planeBytes, Cg, kh, kw, OH, OW, sw, tabJ, tabY, dst, panelBytes, p0] = f.params;
  const L = (): Local => f.local("i32");
  const c = L();
  const i = L();
  const j = L();
  const oy = L();
  const plane = L(); // src + c * planeBytes
  const x0 = L();
  const tj = L(); // &tabJ[j]
  const ty = L(); // &tabY[i * OH]
  const st: RowState = {
    f,
    p: L(),
    ox: L(),
    s: L(),
    lo: L(),
    hi: L(),
    loV: f.local("v128"),
    hiV: f.local("v128"),
    iyOff: L(),
    rOff: L(),
    OW,
    sw,
    dst,
    panelBytes,
  };
  whileLt(f, c, Cg, 1, () => {
    f.get(src).get(c).get(planeBytes).op("i32.mul").op("i32.add").set(plane);
    f.i32(0).set(i);
    whileLt(f, i, kh, 1, () => {
      f.get(tabY).get(i).get(OH).op("i32.mul").i32(4).op("i32.mul").op("i32.add").set(ty);
      f.i32(0).set(j);
      whileLt(f, j, kw, 1, () => {
        f.get(tabJ).get(j).i32(12).op("i32.mul").op("i32.add").set(tj);
        f.get(tj).op("i32.load", 0).set(x0);
        f.get(tj).op("i32.load", 4).set(st.lo);
        f.get(tj).op("i32.load", 8).set(st.hi);
        f.get(st.lo).op("i32x4.splat").set(st.loV);
        f.get(st.hi).op("i32x4.splat").set(st.hiV);
        f.get(p0).set(st.p);
        f.i32(0).set(oy);
        whileLt(f, oy, OH, 1, () => {
          f.get(ty).get(oy).i32(4).op("i32.mul").op("i32.add").op("i32.load").set(st.iyOff);
          f.get(plane).get(st.iyOff).op("i32.add").get(x0).op("i32.add").set(st.s);
          f.i32(0).set(st.ox);
          row(st);
        });
        f.get(st.rOff).i32(NR * 4).op("i32.add").set(st.rOff);
      });
    });
  });
  return f;
}

/** addr = dst + (p / NR) * panelBytes + rOff + (p % NR) * 4 */
function packedAddr(st: RowState, addr: Local): void {
  const { f, p } = st;
  f.get(st.dst).get(p).i32(Math.log2(NR)).op("i32.shr_u").get(st.panelBytes).op("i32.mul").op("i32.add");
  f.get(st.rOff).op("i32.add").get(p).i32(NR - 1).op("i32.and").i32(4).op("i32.mul").op("i32.add").set(addr);
}

/** v = x[s + ox .. ox+3] with lanes outside [lo, hi) masked to +0; lanesOx holds ox + (0, 1, 2, 3). */
function maskedLoad(st: RowState, lanesOx: Local): void {
  const { f } = st;
  f.get(st.s).get(st.ox).i32(4).op("i32.mul").op("i32.add").op("v128.load", 0, 0);
  f.get(lanesOx).get(st.loV).op("i32x4.ge_s");
  f.get(lanesOx).get(st.hiV).op("i32x4.lt_s").op("v128.and");
  f.op("v128.and");
}

/**
 * General variant: any stride and alignment. Four columns at once where p % 4 = 0 and either the stride
 * is 1 or the row is padding; otherwise one float at a time.
 */
export function emitIm2colPacked(): FunctionBuilder {
  let addr: Local | null = null;
  let step: Local | null = null;
  let zero: Local | null = null;
  let lanesOx: Local | null = null;
  return emitIm2colNest((st) => {
    const { f, p, ox, OW, iyOff, sw, lo, hi } = st;
    addr ??= f.local("i32");
    step ??= f.local("i32");
    zero ??= f.local("v128");
    lanesOx ??= f.local("v128");
    const loop = f.loop(); // OW >= 1
    packedAddr(st, addr);
    // four at once: (p & 3) == 0 && ox + 4 <= OW && (iyOff < 0 || sw == 1)
    f.get(p).i32(3).op("i32.and").op("i32.eqz");
    f.get(ox).i32(4).op("i32.add").get(OW).op("i32.le_s").op("i32.and");
    f.get(iyOff).i32(0).op("i32.lt_s").get(sw).i32(1).op("i32.eq").op("i32.or").op("i32.and");
    f.if("i32");
    {
      f.get(addr);
      f.get(iyOff).i32(0).op("i32.lt_s").if("v128");
      f.get(zero); // padding row
      f.else();
      f.get(ox).op("i32x4.splat").op("v128.const", IOTA).op("i32x4.add").set(lanesOx);
      maskedLoad(st, lanesOx);
      f.end();
      f.op("v128.store", 0, 2);
      f.i32(4); // step
    }
    f.else();
    {
      // one: x value if iyOff >= 0 && lo <= ox < hi, else 0
      f.get(addr);
      f.get(iyOff).i32(0).op("i32.ge_s").get(ox).get(lo).op("i32.ge_s").op("i32.and").get(ox).get(hi).op("i32.lt_s").op("i32.and");
      f.if("f32");
      f.get(st.s).get(ox).get(sw).op("i32.mul").i32(4).op("i32.mul").op("i32.add").op("f32.load");
      f.else();
      f.op("f32.const", 0);
      f.end();
      f.op("f32.store");
      f.i32(1); // step
    }
    f.end();
    // the step (4 or 1) is on the stack: advance ox and p by it
    f.tee(step);
    f.get(ox).op("i32.add").set(ox);
    f.get(p).get(step).op("i32.add").set(p);
    f.get(ox).get(OW).op("i32.lt_s").brIf(loop);
    f.end();
  });
}

/**
 * Fast variant for stride 1 with OW % 4 == 0 and p0 % 4 == 0: every run of four columns lies in one
 * output row and one half of a B panel, so a row is OW/4 masked v128 copies (or zero stores), and the
 * packed address steps by 16 bytes, or to the next panel, without being recomputed.
 */
export function emitIm2colPacked4(): FunctionBuilder {
  let addr: Local | null = null;
  let lanesOx: Local | null = null;
  let zero: Local | null = null;
  const FOUR = new Uint8Array(new Int32Array([4, 4, 4, 4]).buffer);
  return emitIm2colNest((st) => {
    const { f, p, ox, OW, iyOff } = st;
    addr ??= f.local("i32");
    lanesOx ??= f.local("v128");
    zero ??= f.local("v128");
    const a = addr;
    packedAddr(st, a);
    // advance: ox += 4, p += 4, addr += 16 within a panel (p % 8 == 0 before) or to the next panel's first half
    const advance = (): void => {
      f.get(a).i32(16).get(st.panelBytes).i32(16).op("i32.sub").get(p).i32(4).op("i32.and").op("i32.eqz").op("select");
      f.op("i32.add").set(a);
      f.get(p).i32(4).op("i32.add").set(p);
      f.get(ox).i32(4).op("i32.add").tee(ox);
      f.get(OW).op("i32.lt_s");
    };
    f.get(iyOff).i32(0).op("i32.lt_s").if();
    {
      const loop = f.loop();
      f.get(a).get(zero).op("v128.store", 0, 2);
      advance();
      f.brIf(loop);
      f.end();
    }
    f.else();
    {
      f.op("v128.const", IOTA).set(lanesOx);
      const loop = f.loop();
      f.get(a);
      maskedLoad(st, lanesOx);
      f.op("v128.store", 0, 2);
      f.get(lanesOx).op("v128.const", FOUR).op("i32x4.add").set(lanesOx);
      advance();
      f.brIf(loop);
      f.end();
    }
    f.end();
  });
}
