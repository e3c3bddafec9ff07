// im2col emitted as WebAssembly, writing the GEMM's packed B layout directly (one pass instead of
// im2col + pack; the plain-TypeScript im2col alone cost more than the GEMM it fed on ResNet-20's small
// feature maps, ~2-4 ns per element).
// Cg=channels of the group kh,kw=kernel OH,OW=out spatial; W=input width; Kc=Cg*kh*kw; NR=B panel width.
//   col[r, p] = x[c, iy, ix] (0 outside), r = (c*kh + i)*kw + j, p = p0 + oy*OW + ox,
//   iy = oy*sh - ph + i*dh, ix = ox*sw + x0[j]
// stored packed (gemm_kernel.ts, PackedB): col[r, p] at dst + (p / NR)*panelBytes + r*NR*4 + (p % NR)*4,
// panelBytes = Kc*NR*4. Four columns at a time (one v128) where p % 4 = 0 and the stride is 1 (lanes
// outside the input row masked to zero; the load may touch up to pw + 3 floats either side of an input
// plane, so the caller leaves that much slack around them) or the row is padding; else one at a time.
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

export function emitIm2colPacked(): FunctionBuilder {
  const f = new FunctionBuilder(Array(13).fill("i32"), []);
  const [src, planeBytes, Cg, kh, kw, OH, OW, sw, tabJ, tabY, dst, panelBytes, p0] = f.params;
  const L = (): Local => f.local("i32");
  const c = L();
  const i = L();
  const j = L();
  const oy = L();
  const ox = L();
  const p = L(); // column of col
  const plane = L(); // src + c * planeBytes
  const rOff = L(); // r * NR * 4
  const s = L(); // input address of ox = 0 (may lie before the row: only [lo, hi) is read)
  const x0 = L();
  const lo = L();
  const hi = L();
  const iyOff = L();
  const addr = L();
  const step = L();
  const tj = L(); // &tabJ[j]
  const ty = L(); // &tabY[i * OH]
  const zero = f.local("v128");
  const loV = f.local("v128");
  const hiV = f.local("v128");
  const lanesOx = f.local("v128");

  whileLt(f, c, Cg, 1, () => {
    f.get(src).get(c).get(planeBytes).op("i32.mul").op("i32.add").set(plane);
    f.i32(0).set(i);
    whileLt(f, i, kh, 1, () => {
      f.get(tabY).get(i).get(OH).op("i32.mul").i32(4).op("i32.mul").op("i32.add").set(ty);
      f.i32(0).set(j);
      whileLt(f, j, kw, 1, () => {
        f.get(tabJ).get(j).i32(12).op("i32.mul").op("i32.add").set(tj);
        f.get(tj).op("i32.load", 0).set(x0);
        f.get(tj).op("i32.load", 4).set(lo);
        f.get(tj).op("i32.load", 8).set(hi);
        f.get(lo).op("i32x4.splat").set(loV);
        f.get(hi).op("i32x4.splat").set(hiV);
        f.get(p0).set(p);
        f.i32(0).set(oy);
        whileLt(f, oy, OH, 1, () => {
          f.get(ty).get(oy).i32(4).op("i32.mul").op("i32.add").op("i32.load").set(iyOff);
          f.get(plane).get(iyOff).op("i32.add").get(x0).op("i32.add").set(s);
          f.i32(0).set(ox);
          const loop = f.loop(); // OW >= 1

          // addr = dst + (p / NR) * panelBytes + rOff + (p % NR) * 4
          f.get(dst).get(p).i32(Math.log2(NR)).op("i32.shr_u").get(panelBytes).op("i32.mul").op("i32.add");
          f.get(rOff).op("i32.add").get(p).i32(NR - 1).op("i32.and").i32(4).op("i32.mul").op("i32.add").set(addr);
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
            // x[s + ox .. ox+3], lanes outside [lo, hi) masked to +0 (reads up to the caller's slack around the row)
            f.get(s).get(ox).i32(4).op("i32.mul").op("i32.add").op("v128.load", 0, 0);
            f.get(ox).op("i32x4.splat").op("v128.const", IOTA).op("i32x4.add").tee(lanesOx);
            f.get(loV).op("i32x4.ge_s");
            f.get(lanesOx).get(hiV).op("i32x4.lt_s").op("v128.and");
            f.op("v128.and");
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
            f.get(s).get(ox).get(sw).op("i32.mul").i32(4).op("i32.mul").op("i32.add").op("f32.load");
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
        f.get(rOff).i32(NR * 4).op("i32.add").set(rOff);
      });
    });
  });
  return f;
}
