// im2col fused with the int8 GEMM's B packing (qgemm_kernel.ts layout), emitted as WebAssembly SIMD128: the taps of
// NR output pixels go from uint8 planes padded with the zero point straight to centered int16 (k, k+1) pairs, for
// all Kc = Cg*KH*KW taps at once (panel q at dst + q*panelBytes, panelBytes = ceil(Kc/2)*NR*4). qconv2d.ts drives it.
// The caller precomputes two i32 tables in wasm memory, so the kernels have no division:
//   offTab[(ci*KH + ky)*KW + kx] = ci*Hp*Wp + ky*dh*Wp + kx*dw   (tap offset from the window origin)
//   tab[q] (rows path) or tab[q*NR + j] (gather path) = window origin of the panel's first / j-th pixel
// Signed inputs are stored XOR 0x80 (= x + 128) by padCopy, with zX + 128 as the zero point, so these read unsigned.
import { FunctionBuilder, type Local } from "../../../wasm/emitter.js";
import type { ModuleBuilder } from "../../../wasm/module.js";
import { NR, ZERO16, ZIP16_HI, ZIP16_LO, bump, whileLt } from "./qgemm_kernel.js";

/** convPack(xp, offTab, kc, dst, panelBytes, nPanels, tab, zX): im2col + pack of padded uint8 planes. */
export type ConvPackFn = (xp: number, offTab: number, kc: number, dst: number, panelBytes: number, nPanels: number, tab: number, zX: number) => void;
/** padCopy(src, dst, planes, H, W, dstRow, dstPlane, xor): copies planes of H x W bytes into a padded layout. */
export type PadCopyFn = (src: number, dst: number, planes: number, h: number, w: number, dstRow: number, dstPlane: number, xor: number) => void;

export interface QConvExports {
  /** Stride-1 and stride-2 rows of NR output pixels (one v128 load per tap), and any geometry (gathered). */
  convRows1: ConvPackFn;
  convRows2: ConvPackFn;
  convGather: ConvPackFn;
  padCopy: PadCopyFn;
}

/** Even bytes of the first operand zero-extended to u16 (byte 16 is lane 0 of a zero second operand). */
const EVEN_BYTES_U16 = [0, 16, 2, 16, 4, 16, 6, 16, 8, 16, 10, 16, 12, 16, 14, 16];

/**
 * convRows_sw: im2col + pack for NR output pixels in one output row (OW % NR == 0), stride sw in {1, 2}, from
 * unsigned planes padded with the zero point. Panel q's pixels start at xp + tab[q]; tap k is at offTab[k] from
 * there, its NR pixels sw bytes apart: one load8x8_u (sw = 1) or one v128 load and an even-byte shuffle (sw = 2).
 * Panels go to dst + q*panelBytes, all kc taps (the B operand packed once for all of K).
 */
function emitConvRows(sw: 1 | 2): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [xp, offTab, kc, dst, panelBytes, nPanels, tab, zX] = f.params;
  const q = f.local("i32");
  const base = f.local("i32");
  const d = f.local("i32");
  const po = f.local("i32");
  const poEnd1 = f.local("i32"); // offTab + (kc - 1) * 4: pairs run while po < poEnd1
  const zv = f.local("v128");
  const zero = f.local("v128");
  const r0 = f.local("v128");
  const r1 = f.local("v128");
  f.get(zX).op("i16x8.splat").set(zv);
  f.get(offTab).get(kc).i32(1).op("i32.sub").i32(4).op("i32.mul").op("i32.add").set(poEnd1);
  const tap = (offsetBytes: number, into: Local): void => {
    f.get(base).get(po).op("i32.load", offsetBytes, 0).op("i32.add");
    if (sw === 1) f.op("v128.load8x8_u", 0, 0);
    else f.op("v128.load", 0, 0).get(zero).op("i8x16.shuffle", EVEN_BYTES_U16);
    f.get(zv).op("i16x8.sub").set(into);
  };
  const zip = (): void => {
    f.get(d).get(r0).get(r1).op("i8x16.shuffle", ZIP16_LO).op("v128.store", 0, 0);
    f.get(d).get(r0).get(r1).op("i8x16.shuffle", ZIP16_HI).op("v128.store", 16, 0);
    bump(f, d, NR * 4);
  };
  const loopQ = f.loop();
  f.get(xp).get(tab).get(q).i32(4).op("i32.mul").op("i32.add").op("i32.load", 0, 0).op("i32.add").set(base);
  f.get(dst).get(q).get(panelBytes).op("i32.mul").op("i32.add").set(d);
  f.get(offTab).set(po);
  whileLt(f, po, poEnd1, 8, () => {
    tap(0, r0);
    tap(4, r1);
    zip();
  });
  f.get(po).get(poEnd1).op("i32.eq").if(); // odd kc: the last tap, paired with a centered 0
  tap(0, r0);
  f.op("v128.const", ZERO16).set(r1);
  zip();
  f.end();
  f.get(q).i32(1).op("i32.add").tee(q);
  f.get(nPanels).op("i32.lt_u").brIf(loopQ);
  f.end();
  return f;
}

/**
 * convGather: im2col + pack for any geometry: pixel j of panel q starts at xp + tab[q*NR + j] (the caller
 * repeats the last pixel for padding columns), each tap a scalar byte load into its int16 lane.
 */
function emitConvGather(): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [xp, offTab, kc, dst, panelBytes, nPanels, tab, zX] = f.params;
  const q = f.local("i32");
  const d = f.local("i32");
  const po = f.local("i32");
  const poEnd = f.local("i32");
  const o0 = f.local("i32");
  const o1 = f.local("i32");
  const px = Array.from({ length: NR }, () => f.local("i32"));
  const zv = f.local("v128");
  const v = f.local("v128");
  f.get(zX).op("i16x8.splat").set(zv);
  f.get(offTab).get(kc).i32(4).op("i32.mul").op("i32.add").set(poEnd);
  const loopQ = f.loop();
  for (let j = 0; j < NR; j++) f.get(xp).get(tab).get(q).i32(NR * 4).op("i32.mul").op("i32.add").op("i32.load", 4 * j, 0).op("i32.add").set(px[j]);
  f.get(dst).get(q).get(panelBytes).op("i32.mul").op("i32.add").set(d);
  f.get(offTab).set(po);
  whileLt(f, po, poEnd, 8, () => {
    f.get(po).op("i32.load", 0, 0).set(o0);
    // odd kc: the missing tap reads as the zero point, so it centers to 0 (o1 = -1 marks it)
    f.get(po).op("i32.load", 4, 0).i32(-1).get(po).i32(4).op("i32.add").get(poEnd).op("i32.lt_u").op("select").set(o1);
    for (let half = 0; half < 2; half++) {
      f.get(zv).set(v);
      for (let jj = 0; jj < 4; jj++) {
        const j = 4 * half + jj;
        f.get(v).get(px[j]).get(o0).op("i32.add").op("i32.load8_u", 0, 0).op("i16x8.replace_lane", 2 * jj).set(v);
        f.get(o1).i32(0).op("i32.ge_s").if();
        f.get(v).get(px[j]).get(o1).op("i32.add").op("i32.load8_u", 0, 0).op("i16x8.replace_lane", 2 * jj + 1).set(v);
        f.end();
      }
      f.get(d).get(v).get(zv).op("i16x8.sub").op("v128.store", 16 * half, 0);
    }
    bump(f, d, NR * 4);
  });
  f.get(q).i32(1).op("i32.add").tee(q);
  f.get(nPanels).op("i32.lt_u").brIf(loopQ);
  f.end();
  return f;
}

/** padCopy: planes of H x W bytes from src (contiguous) to dst rows dstRow apart, planes dstPlane apart, XOR xor. */
function emitPadCopy(): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [src, dst, planes, h, w, dstRow, dstPlane, xor] = f.params;
  const pl = f.local("i32");
  const y = f.local("i32");
  const x = f.local("i32");
  const w4 = f.local("i32");
  const d = f.local("i32");
  const xor4 = f.local("i32");
  f.get(w).i32(-4).op("i32.and").set(w4);
  f.get(xor).i32(0x01010101).op("i32.mul").set(xor4);
  const loopP = f.loop();
  f.get(dst).get(pl).get(dstPlane).op("i32.mul").op("i32.add").set(d);
  f.i32(0).set(y);
  const loopY = f.loop();
  f.i32(0).set(x);
  whileLt(f, x, w4, 4, () => {
    f.get(d).get(x).op("i32.add").get(src).get(x).op("i32.add").op("i32.load", 0, 0).get(xor4).op("i32.xor").op("i32.store", 0, 0);
  });
  whileLt(f, x, w, 1, () => {
    f.get(d).get(x).op("i32.add").get(src).get(x).op("i32.add").op("i32.load8_u", 0, 0).get(xor).op("i32.xor").op("i32.store8", 0, 0);
  });
  bump(f, src, w);
  bump(f, d, dstRow);
  f.get(y).i32(1).op("i32.add").tee(y);
  f.get(h).op("i32.lt_u").brIf(loopY);
  f.end();
  f.get(pl).i32(1).op("i32.add").tee(pl);
  f.get(planes).op("i32.lt_u").brIf(loopP);
  f.end();
  return f;
}

/** Adds the conv packers to a module, exported under the names runtime.ts reads. */
export function addQConvFunctions(m: ModuleBuilder): void {
  m.addFunction(emitConvRows(1), "convRows1");
  m.addFunction(emitConvRows(2), "convRows2");
  m.addFunction(emitConvGather(), "convGather");
  m.addFunction(emitPadCopy(), "padCopy");
}
