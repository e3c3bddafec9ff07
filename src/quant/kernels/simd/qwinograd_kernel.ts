// Integer Winograd F(2x2, 3x3) transforms (Lavin & Gray 2016) emitted as WebAssembly SIMD128, for qwinograd.ts:
//   4 Y = A^T [ U (.) V ] A,  U = G' g G'^T (G' = 2G, integer),  V = B^T d B,  d = 4x4 input tile - zX
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G' = [2 0 0; 1 1 1; 1 -1 1; 0 0 2]   A^T = [1 1 1 0; 0 1 -1 -1]
// Everything is integer: |V| <= 4 max|x - zX| and |U| <= 9 max|w| fit int16 (the GEMM's operands; V computed from the
// raw codes, B^T d B - 4 zX at xi = (1, 1), the only entry of B^T 1 B, each step within int16), and int32
// arithmetic is exact mod 2^32, so 4 Y, whose true value fits int32, comes out exact and >> 2 is exact.
// wgInput: padded uint8 planes (zero-point borders, qconv2d.ts's layout) -> the 16 packed B operands (xi = 4 a + b):
//   B_xi panel q (NR = 8 tiles), channel pair t, tile j: (V_xi[2t, tile], V_xi[2t+1, tile]) int16 at
//   B_xi + q*bStride + t*32 + j*4, tile = image * TH*TW + ty*TW + tx. Four tiles (one row, tx = 4g..4g+3) and
//   two channels per step: 4 rows of 16 bytes from each channel, columns picked by shuffles into (c, c+1) order.
// wgOutput: the 16 GEMM outputs M_xi [K, T] (int32, rows ldc bytes apart, M_xi at m + xi*xiStride) -> Y + bias,
//   NCHW [n, K, 2TH, 2TW], four tiles (eight output pixels of two rows) per step.
// Descriptors (int32 at desc): wgInput  xp plane wp img n C TH TW zX dst xiStride bStride
//                               wgOutput m xiStride ldc n K TH TW out bias
import { FunctionBuilder, type Local } from "../../../wasm/emitter.js";
import type { ModuleBuilder } from "../../../wasm/module.js";
import { bump, whileLt } from "./qgemm_kernel.js";

export const WG_INPUT_DESC_INTS = 12;

/** wgInput(desc) / wgOutput(desc): descriptors as in the file header. */
export interface QWinogradExports {
  wgInput: (desc: number) => void;
  wgOutput: (desc: number) => void;
}
export const WG_OUTPUT_DESC_INTS = 9;

/** i32 lane indices as shuffle bytes. */
function lanes32(l: readonly number[]): number[] {
  return l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
}
const ZIP32_LO = lanes32([0, 4, 1, 5]);
const ZIP32_HI = lanes32([2, 6, 3, 7]);

/**
 * Bytes (first 8) picking column j of four tiles from the rows of channels c (bytes 0-15) and c+1 (16-31), already in
 * the B layout's order (tile i: c, c+1): byte 2i + j of each. The transforms are lane-wise, so V keeps that order.
 */
function columnBytes(j: number): number[] {
  const out = [0, 1, 2, 3].flatMap((i) => [2 * i + j, 16 + 2 * i + j]);
  return [...out, 0, 0, 0, 0, 0, 0, 0, 0];
}

/** a = x OP y into a local (OP an i16x8 / i32x4 add or sub). */
function combine(f: FunctionBuilder, into: Local, x: Local, op: "i16x8.add" | "i16x8.sub" | "i32x4.add" | "i32x4.sub", y: Local): void {
  f.get(x).get(y).op(op).set(into);
}

function emitInput(): FunctionBuilder {
  const f = new FunctionBuilder(["i32"], []);
  const [desc] = f.params;
  const i32 = (): Local => f.local("i32");
  const v = (): Local => f.local("v128");
  const [xp, plane, wp, img, n, C, TH, TW, dst, xiStride, bStride] = Array.from({ length: 11 }, i32);
  const [b, t, ty, g, tau, row, off, pairs, groups] = Array.from({ length: 9 }, i32);
  const z4 = v(); // 4 zX: B^T 1 B is 4 at xi = (1, 1) and 0 elsewhere, so V = B^T d B - 4 zX there
  const [rc, rc1] = [v(), v()];
  const dj = Array.from({ length: 4 }, v);
  const fr = Array.from({ length: 16 }, v); // fr[4r + b] = (d B)[r][b]: the column pass first, row by row
  const field = (i: number): FunctionBuilder => f.get(desc).op("i32.load", 4 * i, 2);
  field(0).set(xp);
  field(1).set(plane);
  field(2).set(wp);
  field(3).set(img);
  field(4).set(n);
  field(5).set(C);
  field(6).set(TH);
  field(7).set(TW);
  field(8).i32(2).op("i32.shl").op("i16x8.splat").set(z4);
  field(9).set(dst);
  field(10).set(xiStride);
  field(11).set(bStride);
  f.get(C).i32(1).op("i32.shr_u").set(pairs);
  f.get(TW).i32(2).op("i32.shr_u").set(groups);

  f.i32(0).set(b);
  whileLt(f, b, n, 1, () => {
    f.i32(0).set(t);
    whileLt(f, t, pairs, 1, () => {
      f.i32(0).set(ty);
      whileLt(f, ty, TH, 1, () => {
        f.i32(0).set(g);
        whileLt(f, g, groups, 1, () => {
          // source: image b, channel 2t, padded row 2ty, column 8g
          f.get(xp).get(b).get(img).op("i32.mul").op("i32.add");
          f.get(t).i32(1).op("i32.shl").get(plane).op("i32.mul").op("i32.add");
          f.get(ty).i32(1).op("i32.shl").get(wp).op("i32.mul").op("i32.add");
          f.get(g).i32(3).op("i32.shl").op("i32.add").set(row);
          for (let r = 0; r < 4; r++) {
            f.get(row).op("v128.load", 0, 0).set(rc);
            f.get(row).get(plane).op("i32.add").op("v128.load", 0, 0).set(rc1);
            if (r < 3) bump(f, row, wp);
            for (let j = 0; j < 4; j++) f.get(rc).get(rc1).op("i8x16.shuffle", columnBytes(j)).op("i16x8.extend_low_i8x16_u").set(dj[j]);
            // (d B)[r]: columns d0 - d2, d1 + d2, d2 - d1, d1 - d3
            combine(f, fr[4 * r], dj[0], "i16x8.sub", dj[2]);
            combine(f, fr[4 * r + 1], dj[1], "i16x8.add", dj[2]);
            combine(f, fr[4 * r + 2], dj[2], "i16x8.sub", dj[1]);
            combine(f, fr[4 * r + 3], dj[1], "i16x8.sub", dj[3]);
          }
          // destination: tile tau = b*TH*TW + ty*TW + 4g; panel tau >> 3, half (tau >> 2) & 1, pair t
          f.get(b).get(TH).op("i32.mul").get(ty).op("i32.add").get(TW).op("i32.mul").get(g).i32(2).op("i32.shl").op("i32.add").set(tau);
          f.get(dst).get(tau).i32(3).op("i32.shr_u").get(bStride).op("i32.mul").op("i32.add");
          f.get(t).i32(5).op("i32.shl").op("i32.add");
          f.get(tau).i32(2).op("i32.shr_u").i32(1).op("i32.and").i32(4).op("i32.shl").op("i32.add").set(off);
          // V = B^T (d B): rows r0 - r2, r1 + r2, r2 - r1, r1 - r3; xi = 4a + b in order, stored as they come
          const rowsOf: [number, "i16x8.add" | "i16x8.sub", number][] = [
            [0, "i16x8.sub", 2],
            [1, "i16x8.add", 2],
            [2, "i16x8.sub", 1],
            [1, "i16x8.sub", 3],
          ];
          for (let a = 0; a < 4; a++) {
            const [r0, opr, r1] = rowsOf[a];
            for (let col = 0; col < 4; col++) {
              f.get(off).get(fr[4 * r0 + col]).get(fr[4 * r1 + col]).op(opr);
              if (a === 1 && col === 1) f.get(z4).op("i16x8.sub");
              f.op("v128.store", 0, 0);
              if (a * 4 + col < 15) bump(f, off, xiStride);
            }
          }
        });
      });
    });
  });
  return f;
}

function emitOutput(): FunctionBuilder {
  const f = new FunctionBuilder(["i32"], []);
  const [desc] = f.params;
  const i32 = (): Local => f.local("i32");
  const v = (): Local => f.local("v128");
  const [m, xiStride, ldc, n, K, TH, TW, out, bias] = Array.from({ length: 9 }, i32);
  const [b, k, ty, g, src, dstRow, groups, ow4, tImg] = Array.from({ length: 9 }, i32);
  const M = Array.from({ length: 4 }, v);
  const t0 = Array.from({ length: 4 }, v);
  const t1 = Array.from({ length: 4 }, v);
  const [y00, y01, y10, y11, bv, tmp] = Array.from({ length: 6 }, v);
  const field = (i: number): FunctionBuilder => f.get(desc).op("i32.load", 4 * i, 2);
  field(0).set(m);
  field(1).set(xiStride);
  field(2).set(ldc);
  field(3).set(n);
  field(4).set(K);
  field(5).set(TH);
  field(6).set(TW);
  field(7).set(out);
  field(8).set(bias);
  f.get(TW).i32(2).op("i32.shr_u").set(groups);
  f.get(TW).i32(3).op("i32.shl").set(ow4); // bytes of one output row: 2 TW int32
  f.get(TH).get(TW).op("i32.mul").set(tImg);

  f.i32(0).set(b);
  whileLt(f, b, n, 1, () => {
    f.i32(0).set(k);
    whileLt(f, k, K, 1, () => {
      f.get(bias).get(k).i32(2).op("i32.shl").op("i32.add").op("v128.load32_splat", 0, 2).set(bv);
      f.i32(0).set(ty);
      whileLt(f, ty, TH, 1, () => {
        f.i32(0).set(g);
        whileLt(f, g, groups, 1, () => {
          // M_xi[k, tau .. tau + 3], tau = b*TH*TW + ty*TW + 4g
          f.get(m).get(k).get(ldc).op("i32.mul").op("i32.add");
          f.get(b).get(tImg).op("i32.mul").get(ty).get(TW).op("i32.mul").op("i32.add").get(g).i32(2).op("i32.shl").op("i32.add").i32(2).op("i32.shl").op("i32.add").set(src);
          // t = A^T M (over rows a, column by column: M_xi at src + (4a + c) * xiStride), then y = t A
          for (let c = 0; c < 4; c++) {
            for (let a = 0; a < 4; a++) {
              f.get(src);
              if (4 * a + c) f.get(xiStride).i32(4 * a + c).op("i32.mul").op("i32.add");
              f.op("v128.load", 0, 2).set(M[a]);
            }
            combine(f, tmp, M[0], "i32x4.add", M[1]);
            combine(f, t0[c], tmp, "i32x4.add", M[2]);
            combine(f, tmp, M[1], "i32x4.sub", M[2]);
            combine(f, t1[c], tmp, "i32x4.sub", M[3]);
          }
          const finish = (into: Local, t: Local[], first: boolean): void => {
            if (first) {
              combine(f, tmp, t[0], "i32x4.add", t[1]);
              combine(f, into, tmp, "i32x4.add", t[2]);
            } else {
              combine(f, tmp, t[1], "i32x4.sub", t[2]);
              combine(f, into, tmp, "i32x4.sub", t[3]);
            }
            // 4 Y is exact in int32, so the shift is an exact division; then the bias
            f.get(into).i32(2).op("i32x4.shr_s").get(bv).op("i32x4.add").set(into);
          };
          finish(y00, t0, true);
          finish(y01, t0, false);
          finish(y10, t1, true);
          finish(y11, t1, false);
          // out[b, k, 2ty, 8g ..]: row 2ty = (y00, y01) interleaved, row 2ty + 1 = (y10, y11)
          f.get(out).get(b).get(K).op("i32.mul").get(k).op("i32.add").get(TH).op("i32.mul").get(ty).op("i32.add").i32(1).op("i32.shl").get(ow4).op("i32.mul").op("i32.add");
          f.get(g).i32(5).op("i32.shl").op("i32.add").set(dstRow);
          f.get(dstRow).get(y00).get(y01).op("i8x16.shuffle", ZIP32_LO).op("v128.store", 0, 2);
          f.get(dstRow).get(y00).get(y01).op("i8x16.shuffle", ZIP32_HI).op("v128.store", 16, 2);
          bump(f, dstRow, ow4);
          f.get(dstRow).get(y10).get(y11).op("i8x16.shuffle", ZIP32_LO).op("v128.store", 0, 2);
          f.get(dstRow).get(y10).get(y11).op("i8x16.shuffle", ZIP32_HI).op("v128.store", 16, 2);
        });
      });
    });
  });
  return f;
}

export function addQWinogradFunctions(mb: ModuleBuilder): void {
  mb.addFunction(emitInput(), "wgInput");
  mb.addFunction(emitOutput(), "wgOutput");
}
