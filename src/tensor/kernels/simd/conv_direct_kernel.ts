// Direct (implicit-GEMM) convolution emitted as WebAssembly: the GEMM micro-kernel of gemm_kernel.ts with
// its B operand read straight from a zero-padded, stride-split copy of the input instead of an im2col
// matrix (no col matrix is written or read; cf. Dukhan, "The indirect convolution algorithm", 2019, which
// replaces im2col by a table of row pointers the same way).
// Cg=channels of a group kh,kw=kernel sh,sw=stride ph,pw=padding dh,dw=dilation OH,OW=out spatial
// Kc=Cg*kh*kw, k=(c*kh + i)*kw + j. Hp=H+2ph, Wp=W+2pw: the padded input.
//
// padSplit writes, per input plane, the sh*sw phase planes of the padded input (space-to-depth):
//   xs[p, py, px, y, x] = xpad[p, y*sh + py, x*sw + px] = x[p, y*sh + py - ph, x*sw + px - pw] (0 outside),
//   y < Hs = ceil(Hp/sh), x < Ws = ceil(Wp/sw) rounded up to 4.
// Rows are copied with v128 loads (stride 1), two loads and an even-lane shuffle (stride 2), or four scalar
// loads (other strides). Then output (oy, ox) of tap (i, j) reads phase ((i*dh) % sh, (j*dw) % sw) at y = oy + floor(i*dh/sh),
// x = ox + floor(j*dw/sw): for every stride the 8 outputs ox0..ox0+7 of a tile read 8 consecutive floats.
// The caller stores one byte offset per k in tab:
//   tab[k] = ((c*sh + (i*dh) % sh)*sw + (j*dw) % sw)*Hs*Ws*4 + floor(i*dh/sh)*Ws*4 + floor(j*dw/sw)*4
// convTiles computes, for one image and group, out[m, oy, ox0:ox0+8] for 4 (MR) output channels at a time:
//   acc[i][v] (+)= sum_k A[m+i, k] * xs[base(oy, ox0) + tab[k] + 16v .. +16]   (NR = 8 = two f32x4)
// with A packed as the GEMM packs it (MR-row panels, kc steps of MR floats: packTransA) and the output tile
// stored straight into [Kg, OH, OW] (OW % 8 == 0, Kg % 4 == 0). padSplit reads up to pw + 4 floats before
// and sw*Ws - W + 4 floats after each input row (lanes outside the row are masked to zero), so the caller
// leaves that much slack around the copied input.
import { FunctionBuilder, type Local } from "../../../wasm/emitter.js";
import { MR, NR, type TileShape } from "./gemm_kernel.js";

/** compactRows(src, dst, rows, wSrc, wDst): dst[r, 0:wDst] = src[r, 0:wSrc][:wDst], floats; writes up to 3 floats past dst's end. */
export type CompactRowsFn = (src: number, dst: number, rows: number, wSrc: number, wDst: number) => void;

/** padSplit(src, dst, planes, H, W, ph, pw, sh, sw, Hs, Ws): addresses in bytes. */
export type PadSplitFn = (src: number, dst: number, planes: number, H: number, W: number, ph: number, pw: number, sh: number, sw: number, Hs: number, Ws: number) => void;

/** convTiles(aPack, x, tab, kc, c, ldc, mPanels, OH, tiles, inRow, outRow, load): bytes; see the file header. */
export type ConvTilesFn = (
  aPack: number,
  x: number,
  tab: number,
  kc: number,
  c: number,
  ldc: number,
  mPanels: number,
  OH: number,
  tiles: number,
  inRow: number,
  outRow: number,
  load: number,
) => void;

const i32x4 = (v: readonly number[]): Uint8Array => new Uint8Array(new Int32Array(v).buffer);
/** f32 lanes 0, 2 of the first operand then 0, 2 of the second: the even elements of 8 consecutive floats. */
const EVEN = [0, 2, 4, 6].flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

/** for (counter = 0; counter < end; counter++) body, skipped when end <= 0. */
function forRange(f: FunctionBuilder, counter: Local, end: Local, body: () => void): void {
  f.i32(0).set(counter);
  const exit = f.block();
  f.get(end).i32(0).op("i32.le_s").brIf(exit);
  const loop = f.loop();
  body();
  f.get(counter).i32(1).op("i32.add").tee(counter);
  f.get(end).op("i32.lt_s").brIf(loop);
  f.end();
  f.end();
}

export function emitPadSplit(): FunctionBuilder {
  const f = new FunctionBuilder(Array(11).fill("i32"), []);
  const [src, dst, planes, H, W, ph, pw, sh, sw, Hs, Ws] = f.params;
  const L = (): Local => f.local("i32");
  const p = L();
  const py = L();
  const px = L();
  const y = L();
  const iy = L();
  const srcRow = L(); // address of input element (iy, ix of x = 0), may lie before the row
  const rowEnd = L(); // dst + Ws*4
  const step = L(); // source bytes per output vector: 16 * sw
  const ixV = f.local("v128"); // input column of each lane
  const stepV = f.local("v128");
  const zero = f.local("v128");
  const Wv = f.local("v128");
  const v = f.local("v128");
  f.get(W).op("i32x4.splat").set(Wv);
  f.get(sw).i32(16).op("i32.mul").set(step);
  f.get(sw).i32(4).op("i32.mul").op("i32x4.splat").set(stepV);
  const sw4 = L(); // sw * 4, 8, 12 bytes: the lanes of the general variant
  const sw8 = L();
  const sw12 = L();
  f.get(sw).i32(4).op("i32.mul").tee(sw4).get(sw4).op("i32.add").tee(sw8).get(sw4).op("i32.add").set(sw12);
  // one output row: v = 4 source columns (stride 1), the even ones of 8 (stride 2), or 4 scalar loads (any
  // stride); lanes outside [0, W) zeroed
  const row = (stride: 1 | 2 | "any"): void => {
    const loop = f.loop();
    if (stride === "any") {
      f.get(zero);
      [null, sw4, sw8, sw12].forEach((off, lane) => {
        f.get(srcRow);
        if (off) f.get(off).op("i32.add");
        f.op("f32.load", 0, 0).op("f32x4.replace_lane", lane);
      });
    } else {
      f.get(srcRow).op("v128.load", 0, 0);
      if (stride === 2) f.get(srcRow).op("v128.load", 16, 0).op("i8x16.shuffle", EVEN);
    }
    f.set(v);
    f.get(dst);
    f.get(v);
    f.get(ixV).get(zero).op("i32x4.ge_s").get(ixV).get(Wv).op("i32x4.lt_s").op("v128.and");
    f.op("v128.and").op("v128.store", 0, 0);
    f.get(ixV).get(stepV).op("i32x4.add").set(ixV);
    f.get(srcRow).get(step).op("i32.add").set(srcRow);
    f.get(dst).i32(16).op("i32.add").tee(dst);
    f.get(rowEnd).op("i32.lt_u").brIf(loop);
    f.end();
  };
  forRange(f, p, planes, () => {
    forRange(f, py, sh, () => {
      forRange(f, px, sw, () => {
        forRange(f, y, Hs, () => {
          f.get(dst).get(Ws).i32(4).op("i32.mul").op("i32.add").set(rowEnd);
          f.get(y).get(sh).op("i32.mul").get(py).op("i32.add").get(ph).op("i32.sub").tee(iy);
          f.i32(0).op("i32.lt_s").get(iy).get(H).op("i32.ge_s").op("i32.or");
          f.if();
          {
            const loop = f.loop(); // padding row
            f.get(dst).get(zero).op("v128.store", 0, 0);
            f.get(dst).i32(16).op("i32.add").tee(dst);
            f.get(rowEnd).op("i32.lt_u").brIf(loop);
            f.end();
          }
          f.else();
          {
            // ix of x = 0 is px - pw; srcRow = src + ((p*H + iy)*W + px - pw)*4
            f.get(src).get(p).get(H).op("i32.mul").get(iy).op("i32.add").get(W).op("i32.mul").get(px).op("i32.add").get(pw).op("i32.sub");
            f.i32(4).op("i32.mul").op("i32.add").set(srcRow);
            f.get(px).get(pw).op("i32.sub").op("i32x4.splat").get(sw).op("i32x4.splat").op("v128.const", i32x4([0, 1, 2, 3]));
            f.op("i32x4.mul").op("i32x4.add").set(ixV);
            f.get(sw).i32(1).op("i32.eq").if();
            row(1);
            f.else();
            f.get(sw).i32(2).op("i32.eq").if();
            row(2);
            f.else();
            row("any");
            f.end();
            f.end();
          }
          f.end();
        });
      });
    });
  });
  return f;
}

/**
 * Drops the padding columns of a wide output ([rows, wSrc] with wSrc = OW rounded up to 8) into [rows, wDst]:
 * v128 copies in ascending order, so the up to 3 floats a row's last copy writes past its end are rewritten
 * by the next row (the caller leaves 4 floats after dst). Addresses in bytes.
 */
export function emitCompactRows(): FunctionBuilder {
  const f = new FunctionBuilder(Array(5).fill("i32"), []);
  const [src, dst, rows, wSrc, wDst] = f.params;
  const r = f.local("i32");
  const s = f.local("i32");
  const d = f.local("i32");
  const end = f.local("i32");
  forRange(f, r, rows, () => {
    f.get(src).get(r).get(wSrc).op("i32.mul").i32(4).op("i32.mul").op("i32.add").set(s);
    f.get(dst).get(r).get(wDst).op("i32.mul").i32(4).op("i32.mul").op("i32.add").tee(d);
    f.get(wDst).i32(4).op("i32.mul").op("i32.add").set(end);
    const loop = f.loop(); // wDst >= 1
    f.get(d).get(s).op("v128.load", 0, 0).op("v128.store", 0, 0);
    f.get(s).i32(16).op("i32.add").set(s);
    f.get(d).i32(16).op("i32.add").tee(d);
    f.get(end).op("i32.lt_u").brIf(loop);
    f.end();
  });
  return f;
}

export function emitConvTiles(t: TileShape): FunctionBuilder {
  if (t.MR !== MR || t.NR !== NR) throw new Error(`emitConvTiles: built for a ${MR}x${NR} tile`);
  const NV = NR / 4;
  const f = new FunctionBuilder(Array(12).fill("i32"), []);
  const [aPack, x, tab, kc, c, ldc, mPanels, OH, tiles, inRow, outRow, load] = f.params;
  const L = (): Local => f.local("i32");
  const oy = L();
  const tt = L();
  const mp = L();
  const xt = L(); // input base of the tile
  const ct = L(); // output address of the tile's first channel
  const cp = L(); // output address of the current panel's first row
  const cr = L();
  const pa = L();
  const pt = L();
  const kEnd = L();
  const addr = L();
  const acc: Local[][] = Array.from({ length: MR }, () => Array.from({ length: NV }, () => f.local("v128")));
  const b = Array.from({ length: NV }, () => f.local("v128"));
  const a = f.local("v128");
  const rows = (body: (i: number) => void): void => {
    f.get(cp).set(cr);
    for (let i = 0; i < MR; i++) {
      if (i > 0) f.get(cr).get(ldc).op("i32.add").set(cr);
      body(i);
    }
  };
  f.get(tab).get(kc).i32(4).op("i32.mul").op("i32.add").set(kEnd);
  forRange(f, oy, OH, () => {
    forRange(f, tt, tiles, () => {
      f.get(x).get(oy).get(inRow).op("i32.mul").op("i32.add").get(tt).i32(NR * 4).op("i32.mul").op("i32.add").set(xt);
      f.get(c).get(oy).get(outRow).op("i32.mul").op("i32.add").get(tt).i32(NR * 4).op("i32.mul").op("i32.add").set(ct);
      f.get(aPack).set(pa);
      f.get(ct).set(cp);
      forRange(f, mp, mPanels, () => {
        f.get(load).if();
        rows((i) => {
          for (let v = 0; v < NV; v++) f.get(cr).op("v128.load", 16 * v, 0).set(acc[i][v]);
        });
        f.else();
        f.op("v128.const", new Uint8Array(16)).set(acc[0][0]);
        for (let i = 0; i < MR; i++) for (let v = 0; v < NV; v++) if (i + v > 0) f.get(acc[0][0]).set(acc[i][v]);
        f.end();
        f.get(tab).set(pt);
        const loopK = f.loop();
        f.get(xt).get(pt).op("i32.load").op("i32.add").set(addr);
        for (let v = 0; v < NV; v++) f.get(addr).op("v128.load", 16 * v, 0).set(b[v]);
        for (let i = 0; i < MR; i++) {
          f.get(pa).op("v128.load32_splat", 4 * i).set(a);
          for (let v = 0; v < NV; v++) {
            if (t.fma) f.get(a).get(b[v]).get(acc[i][v]).op("f32x4.relaxed_madd").set(acc[i][v]);
            else f.get(acc[i][v]).get(a).get(b[v]).op("f32x4.mul").op("f32x4.add").set(acc[i][v]);
          }
        }
        f.get(pa).i32(MR * 4).op("i32.add").set(pa);
        f.get(pt).i32(4).op("i32.add").tee(pt);
        f.get(kEnd).op("i32.lt_u").brIf(loopK);
        f.end();
        rows((i) => {
          for (let v = 0; v < NV; v++) f.get(cr).get(acc[i][v]).op("v128.store", 16 * v, 0);
        });
        f.get(cp).get(ldc).i32(MR).op("i32.mul").op("i32.add").set(cp);
      });
    });
  });
  return f;
}
