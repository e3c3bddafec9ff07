// The int8 GEMM functions, emitted as WebAssembly SIMD128 from TypeScript (src/wasm): the macro-kernel over one
// packed A block and one packed B block (BLIS loops 4-5, as the fp32 gemm_kernel.ts), the packers that widen 8-bit
// codes to int16, subtract the zero points and interleave k in pairs for i32x4.dot_i16x8_s, and row copy / fill
// helpers for the C matrix. qgemm.ts and qconv2d.ts drive them (conv's packers: qconv2d_kernel.ts). Byte addresses.
//
// Packed layouts (int16, centered: every value is q - zeroPoint, |q - zeroPoint| <= 32767 checked by the caller):
//   A panel p (MR rows), k-pair t: row i at p*kp*MR*4 + t*MR*4 + i*4: (A[r, 2t] - zA[r], A[r, 2t+1] - zA[r])
//   B panel q (NR cols), k-pair t: col j at q*bStride + t*NR*4 + j*4: (B[2t, c] - zB[c], B[2t+1, c] - zB[c])
//   kp = ceil(kc / 2); an odd kc is padded with a centered 0, which adds nothing.
// block(aPack, bPack, bStride, c, ldc, mPanels, nPanels, kp, init, rowInit): MR x NR int32 register tile, MR * NV
//   i32x4 accumulators (NV = NR / 4):
//   for jr: for ir: acc = C tile (init = INIT_LOAD), 0 (INIT_ZERO), or row r's int32 at rowInit + 4r in every
//                   column (INIT_ROWS: a bias, without a pass that writes it into C first)
//     for t < kp: b[v] = B pair t of cols 4v..4v+3; for i: a = splat32(A pair t of row i); acc[i][v] += dot(a, b[v])
//     C tile = acc
//   i32x4.dot_i16x8_s(a, b)[j] = a[2j]*b[2j] + a[2j+1]*b[2j+1]: one instruction, 8 multiply-adds, exact (each
//   product and pair sum of centered int16 values fits int32; int32 adds wrap mod 2^32, so the final sum is
//   exact whenever the true result fits int32, which the callers assert as the reference kernels do).
// Every loop of block is a do-while: callers pass mPanels, nPanels, kp >= 1. The packers test first.
import { FunctionBuilder, type Local } from "../../../wasm/emitter.js";
import type { ModuleBuilder } from "../../../wasm/module.js";

// 4 x 8 like the fp32 kernel: 8 accumulators + 2 B vectors + 1 A splat + 1 product in the 15 allocatable XMM
// registers of V8 on x64. Each step does 64 multiply-adds where the fp32 tile does 32 in as many instructions.
// Measured in cache (AMD EPYC, V8 11.3, best of 15): 4x8 and 2x16 ~90 GOP/s; 5x8, 6x8, 4x12 35-55 (spills);
// 4x8 with k unrolled by 2 ~60; one v128 A load splatted by shuffles ~80 (shuffles compete with the dot/add ports).
export const MR = 4;
export const NR = 8;

/** How block() starts its accumulators: zeros, the C tile, or one int32 per row read at rowInit (bias). */
export const INIT_ZERO = 0;
export const INIT_LOAD = 1;
export const INIT_ROWS = 2;
/** block(aPack, bPack, bStride, c, ldc, mPanels, nPanels, kp, init, rowInit) -> void; rowInit is read for INIT_ROWS only. */
export type QBlockFn = (aPack: number, bPack: number, bStride: number, c: number, ldc: number, mPanels: number, nPanels: number, kp: number, init: number, rowInit: number) => void;
/** packRows(src, ld, nRows, dst, kc, nPanels, zp, zpStride): W rows of k-contiguous codes per panel. */
export type PackRowsFn = (src: number, ld: number, nRows: number, dst: number, kc: number, nPanels: number, zp: number, zpStride: number) => void;
/** packCols(src, ld, dst, kc, nPanels, zp16): NR contiguous columns of a [K, N] matrix per panel. */
export type PackColsFn = (src: number, ld: number, dst: number, kc: number, nPanels: number, zp16: number) => void;
/** copyRows(src, srcStride, dst, dstStride, rows, bytes): forward row copies (bytes % 4 == 0; dst <= src may overlap). */
export type CopyRowsFn = (src: number, srcStride: number, dst: number, dstStride: number, rows: number, bytes: number) => void;

export interface QGemmExports {
  block: QBlockFn;
  /** [signed, unsigned] codes, MR-row panels (A). */
  packRowsA: readonly [PackRowsFn, PackRowsFn];
  /** [signed, unsigned] codes, NR-row panels (B given as [N, K]). */
  packRowsB: readonly [PackRowsFn, PackRowsFn];
  /** [signed, unsigned] codes, NR-column panels (B given as [K, N]). */
  packColsB: readonly [PackColsFn, PackColsFn];
  copyRows: CopyRowsFn;
}

/** i16 lane indices (0-7 first operand, 8-15 second) as i8x16.shuffle byte indices. */
function lanes16(l: readonly number[]): number[] {
  return l.flatMap((x) => [2 * x, 2 * x + 1]);
}
/** i32 lane indices as shuffle byte indices. */
function lanes32(l: readonly number[]): number[] {
  return l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
}
export const ZIP16_LO = lanes16([0, 8, 1, 9, 2, 10, 3, 11]); // (r0[c], r1[c]) for c = 0..3
export const ZIP16_HI = lanes16([4, 12, 5, 13, 6, 14, 7, 15]); // c = 4..7
const LO32 = lanes32([0, 4, 1, 5]);
const HI32 = lanes32([2, 6, 3, 7]);
const LOW_HALVES = lanes32([0, 1, 4, 5]);
const HIGH_HALVES = lanes32([2, 3, 6, 7]);
export const ZERO16 = new Uint8Array(16);

/** pointer += bytes */
export function bump(f: FunctionBuilder, p: Local, bytes: number | Local): void {
  f.get(p);
  if (typeof bytes === "number") f.i32(bytes);
  else f.get(bytes);
  f.op("i32.add").set(p);
}

/** while (counter < end) { body; counter += step } (the test runs first; signed compare). */
export function whileLt(f: FunctionBuilder, counter: Local, end: Local, step: number, body: () => void): void {
  const exit = f.block();
  f.get(counter).get(end).op("i32.ge_s").brIf(exit);
  const loop = f.loop();
  body();
  f.get(counter).i32(step).op("i32.add").tee(counter);
  f.get(end).op("i32.lt_s").brIf(loop);
  f.end();
  f.end();
}

function emitBlock(): FunctionBuilder {
  const NV = NR / 4;
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [aPack, bPack, bStride, c, ldc, mPanels, nPanels, kp, init, rowInit] = f.params;
  const i32 = (): Local => f.local("i32");
  const bp = i32();
  const bEnd = i32();
  const cj = i32();
  const ap = i32();
  const aEnd = i32();
  const ci = i32();
  const cr = i32();
  const pa = i32();
  const pb = i32();
  const kEnd = i32();
  const ri = i32(); // rowInit of the current row panel
  const acc: Local[][] = [];
  for (let i = 0; i < MR; i++) acc.push(Array.from({ length: NV }, () => f.local("v128")));
  const b = Array.from({ length: NV }, () => f.local("v128"));
  const a = f.local("v128");

  const forEachRow = (body: (i: number) => void): void => {
    f.get(ci).set(cr);
    for (let i = 0; i < MR; i++) {
      if (i > 0) bump(f, cr, ldc);
      body(i);
    }
  };

  f.get(bPack).set(bp).get(c).set(cj);
  f.get(bPack).get(nPanels).get(bStride).op("i32.mul").op("i32.add").set(bEnd);
  f.get(aPack).get(mPanels).get(kp).op("i32.mul").i32(MR * 4).op("i32.mul").op("i32.add").set(aEnd);
  const loopJ = f.loop();
  f.get(aPack).set(ap).get(cj).set(ci).get(rowInit).set(ri);
  const loopI = f.loop();
  f.get(init).i32(INIT_LOAD).op("i32.eq").if();
  forEachRow((i) => {
    for (let v = 0; v < NV; v++) f.get(cr).op("v128.load", 16 * v).set(acc[i][v]);
  });
  f.else();
  f.get(init).i32(INIT_ROWS).op("i32.eq").if();
  for (let i = 0; i < MR; i++) {
    f.get(ri).op("v128.load32_splat", 4 * i).set(acc[i][0]);
    for (let v = 1; v < NV; v++) f.get(acc[i][0]).set(acc[i][v]);
  }
  bump(f, ri, MR * 4);
  f.else();
  f.op("v128.const", ZERO16).set(acc[0][0]);
  for (let i = 0; i < MR; i++) for (let v = 0; v < NV; v++) if (i + v > 0) f.get(acc[0][0]).set(acc[i][v]);
  f.end();
  f.end();
  f.get(ap).set(pa).get(bp).set(pb);
  f.get(ap).get(kp).i32(MR * 4).op("i32.mul").op("i32.add").set(kEnd);
  const loopK = f.loop();
  for (let v = 0; v < NV; v++) f.get(pb).op("v128.load", 16 * v).set(b[v]);
  for (let i = 0; i < MR; i++) {
    f.get(pa).op("v128.load32_splat", 4 * i).set(a);
    for (let v = 0; v < NV; v++) f.get(acc[i][v]).get(a).get(b[v]).op("i32x4.dot_i16x8_s").op("i32x4.add").set(acc[i][v]);
  }
  bump(f, pb, NR * 4);
  f.get(pa).i32(MR * 4).op("i32.add").tee(pa);
  f.get(kEnd).op("i32.lt_u").brIf(loopK);
  f.end();
  forEachRow((i) => {
    for (let v = 0; v < NV; v++) f.get(cr).get(acc[i][v]).op("v128.store", 16 * v);
  });
  f.get(pa).set(ap);
  f.get(ci).get(ldc).i32(MR).op("i32.mul").op("i32.add").set(ci);
  f.get(ap).get(aEnd).op("i32.lt_u").brIf(loopI);
  f.end();
  bump(f, bp, bStride);
  bump(f, cj, NR * 4);
  f.get(bp).get(bEnd).op("i32.lt_u").brIf(loopJ);
  f.end();
  return f;
}

/**
 * packRows_W: panels of W rows, k contiguous in each row (A, or B given as [N, K]). Rows past nRows repeat the
 * last row (their results land in padding of the C block, never read). Per 8 k: one load8x8 per row, minus the
 * row's zero point, then 4x4 transposes of the 32-bit k-pairs; the kc % 8 tail goes pair by pair.
 */
function emitPackRows(W: number, signed: boolean): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [src, ld, nRows, dst, kc, nPanels, zp, zpStride] = f.params;
  const q = f.local("i32");
  const kb = f.local("i32");
  const k8 = f.local("i32");
  const kc1 = f.local("i32");
  const row = f.local("i32");
  const last = f.local("i32");
  const rows = Array.from({ length: W }, () => f.local("i32"));
  const z = Array.from({ length: W }, () => f.local("i32"));
  const zv = Array.from({ length: W }, () => f.local("v128"));
  const r = Array.from({ length: 4 }, () => f.local("v128"));
  const t = Array.from({ length: 4 }, () => f.local("v128"));
  const load8 = signed ? "i32.load8_s" : "i32.load8_u";
  f.get(kc).i32(-8).op("i32.and").set(k8);
  f.get(kc).i32(1).op("i32.sub").set(kc1);
  f.get(nRows).i32(1).op("i32.sub").set(last);
  const loopQ = f.loop();
  for (let w = 0; w < W; w++) {
    // row = min(q*W + w, nRows - 1)
    f.get(q).i32(W).op("i32.mul").i32(w).op("i32.add").tee(row);
    f.get(last).get(row).get(last).op("i32.lt_s").op("select").set(row);
    f.get(src).get(row).get(ld).op("i32.mul").op("i32.add").set(rows[w]);
    f.get(zp).get(row).get(zpStride).op("i32.mul").op("i32.add").op("i32.load").tee(z[w]).op("i16x8.splat").set(zv[w]);
  }
  f.i32(0).set(kb);
  whileLt(f, kb, k8, 8, () => {
    for (let blk = 0; blk < W / 4; blk++) {
      for (let w = 0; w < 4; w++) {
        f.get(rows[4 * blk + w]).get(kb).op("i32.add").op(signed ? "v128.load8x8_s" : "v128.load8x8_u", 0, 0);
        f.get(zv[4 * blk + w]).op("i16x8.sub").set(r[w]);
      }
      f.get(r[0]).get(r[1]).op("i8x16.shuffle", LO32).set(t[0]);
      f.get(r[0]).get(r[1]).op("i8x16.shuffle", HI32).set(t[1]);
      f.get(r[2]).get(r[3]).op("i8x16.shuffle", LO32).set(t[2]);
      f.get(r[2]).get(r[3]).op("i8x16.shuffle", HI32).set(t[3]);
      const out: [Local, Local, number[]][] = [
        [t[0], t[2], LOW_HALVES],
        [t[0], t[2], HIGH_HALVES],
        [t[1], t[3], LOW_HALVES],
        [t[1], t[3], HIGH_HALVES],
      ];
      out.forEach(([x, y, sel], j) => {
        f.get(dst).get(x).get(y).op("i8x16.shuffle", sel).op("v128.store", (j * W + 4 * blk) * 4);
      });
    }
    bump(f, dst, 4 * W * 4);
  });
  // whole pairs left: k + 1 < kc
  whileLt(f, kb, kc1, 2, () => {
    for (let w = 0; w < W; w++) {
      f.get(dst).get(rows[w]).get(kb).op("i32.add").op(load8, 0, 0).get(z[w]).op("i32.sub").op("i32.store16", 4 * w, 0);
      f.get(dst).get(rows[w]).get(kb).op("i32.add").op(load8, 1, 0).get(z[w]).op("i32.sub").op("i32.store16", 4 * w + 2, 0);
    }
    bump(f, dst, W * 4);
  });
  // odd kc: the last k, paired with a centered 0
  f.get(kb).get(kc).op("i32.lt_s").if();
  for (let w = 0; w < W; w++) {
    f.get(dst).get(rows[w]).get(kb).op("i32.add").op(load8, 0, 0).get(z[w]).op("i32.sub").op("i32.store16", 4 * w, 0);
    f.get(dst).i32(0).op("i32.store16", 4 * w + 2, 0);
  }
  bump(f, dst, W * 4);
  f.end();
  f.get(q).i32(1).op("i32.add").tee(q);
  f.get(nPanels).op("i32.lt_u").brIf(loopQ);
  f.end();
  return f;
}

/**
 * packCols: NR-column panels of a [K, N] matrix (columns contiguous): per k-pair, two load8x8 (rows k, k+1)
 * minus the columns' zero points (an i16x8 at zp16 + q*16), zipped into (k, k+1) pairs. Columns past N read
 * whatever follows (the caller leaves slack); their results land in C padding.
 */
function emitPackCols(signed: boolean): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [src, ld, dst, kc, nPanels, zp16] = f.params;
  const q = f.local("i32");
  const kb = f.local("i32");
  const kc1 = f.local("i32");
  const s = f.local("i32");
  const zv = f.local("v128");
  const r0 = f.local("v128");
  const r1 = f.local("v128");
  const load = signed ? "v128.load8x8_s" : "v128.load8x8_u";
  f.get(kc).i32(1).op("i32.sub").set(kc1);
  const loopQ = f.loop();
  f.get(src).get(q).i32(NR).op("i32.mul").op("i32.add").set(s);
  f.get(zp16).get(q).i32(16).op("i32.mul").op("i32.add").op("v128.load", 0, 0).set(zv);
  f.i32(0).set(kb);
  const zip = (): void => {
    f.get(dst).get(r0).get(r1).op("i8x16.shuffle", ZIP16_LO).op("v128.store", 0, 0);
    f.get(dst).get(r0).get(r1).op("i8x16.shuffle", ZIP16_HI).op("v128.store", 16, 0);
    bump(f, dst, NR * 4);
  };
  whileLt(f, kb, kc1, 2, () => {
    f.get(s).op(load, 0, 0).get(zv).op("i16x8.sub").set(r0);
    f.get(s).get(ld).op("i32.add").op(load, 0, 0).get(zv).op("i16x8.sub").set(r1);
    zip();
    f.get(s).get(ld).get(ld).op("i32.add").op("i32.add").set(s);
  });
  f.get(kb).get(kc).op("i32.lt_s").if();
  f.get(s).op(load, 0, 0).get(zv).op("i16x8.sub").set(r0);
  f.op("v128.const", ZERO16).set(r1);
  zip();
  f.end();
  f.get(q).i32(1).op("i32.add").tee(q);
  f.get(nPanels).op("i32.lt_u").brIf(loopQ);
  f.end();
  return f;
}

/** copyRows: 16 bytes at a time, then 4; each chunk is loaded before it is stored, so dst <= src may overlap. */
function emitCopyRows(): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [src, srcStride, dst, dstStride, rows, bytes] = f.params;
  const r = f.local("i32");
  const x = f.local("i32");
  const b16 = f.local("i32");
  f.get(bytes).i32(-16).op("i32.and").set(b16);
  whileLt(f, r, rows, 1, () => {
    f.i32(0).set(x);
    whileLt(f, x, b16, 16, () => {
      f.get(dst).get(x).op("i32.add").get(src).get(x).op("i32.add").op("v128.load", 0, 0).op("v128.store", 0, 0);
    });
    whileLt(f, x, bytes, 4, () => {
      f.get(dst).get(x).op("i32.add").get(src).get(x).op("i32.add").op("i32.load", 0, 0).op("i32.store", 0, 0);
    });
    bump(f, src, srcStride);
    bump(f, dst, dstStride);
  });
  return f;
}

/** Adds the GEMM functions to a module, exported under the names runtime.ts reads. */
export function addQGemmFunctions(m: ModuleBuilder): void {
  m.addFunction(emitBlock(), "qblock");
  m.addFunction(emitPackRows(MR, true), "packRowsA_s");
  m.addFunction(emitPackRows(MR, false), "packRowsA_u");
  m.addFunction(emitPackRows(NR, true), "packRowsB_s");
  m.addFunction(emitPackRows(NR, false), "packRowsB_u");
  m.addFunction(emitPackCols(true), "packColsB_s");
  m.addFunction(emitPackCols(false), "packColsB_u");
  m.addFunction(emitCopyRows(), "copyRows");
}
