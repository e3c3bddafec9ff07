// The SIMD128 GEMM module, emitted as WebAssembly from TypeScript (src/wasm): the macro-kernel that
// multiplies one packed A block by one packed B block into a C block held in wasm memory (Goto/BLIS loops
// 4-5 around the micro-kernel), and the packing routines that build those blocks. gemm.ts drives them.
// Addresses and strides are in bytes; every loop is a do-while, so callers pass counts >= 1.
//
// block(aPack, bPack, bStride, c, ldc, mPanels, nPanels, kc, load): MR x NR register tile, NR = 4 * NV floats,
//   MR * NV f32x4 accumulators, NV B vectors and one A splat (v128.load32_splat):
//   for jr < nPanels: for ir < mPanels: acc = load ? C tile : 0
//     for k < kc: b[v] = B[k, 4v:4v+4]; for i: a = splat(A[i, k]); acc[i][v] += a * b[v]
//     C tile = acc   (C tile (ir, jr) at c + ir*MR*ldc + jr*NR*4; B panel jr at bPack + jr*bStride)
// Packed layouts (floats): A panel p holds kc steps of MR values, A[p*MR + i, k] at p*kc*MR + k*MR + i;
// B panel q holds kc steps of NR values, B[k, q*NR + j] at q*kc*NR + k*NR + j (panel stride kc*NR, or
// K*NR when B was packed once for all of K, as conv's im2col does: the block then reads a kc slice).
//
// Packing a W-wide panel dim (W = MR for A rows, NR for B columns) over kc steps, for full panels only:
//   pack_contig_W(src, sk, dst, kc, nPanels): panel dim contiguous in the source (row-major B, transposed A);
//     each k step is W/4 v128 copies from src + q*W*4 + k*sk.
//   pack_trans_W(src, sp, dst, kc, nPanels): k contiguous (row-major A, transposed B): 4x4 blocks of W source
//     rows (stride sp) are transposed with i8x16.shuffle; the kc % 4 tail is copied with scalar f32 loads.
import { FunctionBuilder, type Local } from "../../../wasm/emitter.js";
import type { ModuleBuilder } from "../../../wasm/module.js";

// The register tile. 4 x 8: 8 f32x4 accumulators + 2 B vectors + 1 A splat + 1 product fit in the 15
// allocatable XMM registers. Measured in cache on Zen 3 / V8 11.3: 4x8 ~48 GFLOP/s; 6x8, 4x12 and 8x8 spill
// (~28-34), as does unrolling k by hand (TurboFan then hoists every load above the arithmetic and
// spills); V8 unrolls the small k loop itself. With relaxed_madd (behind a flag in Node 20) 6x8 fits
// but measured ~40, and 4x8 the same as mul + add.
export const MR = 4;
export const NR = 8;

export interface TileShape {
  /** Rows of the register tile (A panel height). */
  MR: number;
  /** Columns of the register tile (B panel width), a multiple of 4. */
  NR: number;
  /** Use f32x4.relaxed_madd (only where the engine validates it) instead of f32x4.mul + f32x4.add. */
  fma: boolean;
}

/** block(aPack, bPack, bStride, c, ldc, mPanels, nPanels, kc, load) -> void (bytes). */
export type GemmBlockFn = (
  aPack: number,
  bPack: number,
  bStride: number,
  c: number,
  ldc: number,
  mPanels: number,
  nPanels: number,
  kc: number,
  load: number,
) => void;
/** pack_*(src, strideBytes, dst, kc, nPanels) -> void. */
export type PackFn = (src: number, stride: number, dst: number, kc: number, nPanels: number) => void;

export interface GemmExports {
  block: GemmBlockFn;
  packContigA: PackFn;
  packTransA: PackFn;
  packContigB: PackFn;
  packTransB: PackFn;
}

/** pointer += bytes */
function bump(f: FunctionBuilder, p: Local, bytes: number | Local): void {
  f.get(p);
  if (typeof bytes === "number") f.i32(bytes);
  else f.get(bytes);
  f.op("i32.add").set(p);
}

function emitBlock(t: TileShape): FunctionBuilder {
  const { MR, NR, fma } = t;
  if (NR % 4 !== 0) throw new Error(`emitGemmModule: NR=${NR} is not a multiple of 4`);
  const NV = NR / 4;
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [aPack, bPack, bStride, c, ldc, mPanels, nPanels, kc, load] = f.params;
  const i32 = (): Local => f.local("i32");
  const bp = i32(); // current B panel
  const bEnd = i32();
  const cj = i32(); // C address of the current column of tiles
  const ap = i32(); // current A panel
  const aEnd = i32();
  const ci = i32(); // C address of the current tile
  const cr = i32(); // C row pointer while loading / storing a tile
  const pa = i32(); // A and B pointers inside the k loop
  const pb = i32();
  const kEnd = i32();
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
  f.get(aPack).get(mPanels).get(kc).op("i32.mul").i32(MR * 4).op("i32.mul").op("i32.add").set(aEnd);
  const loopJ = f.loop();
  f.get(aPack).set(ap).get(cj).set(ci);
  const loopI = f.loop();
  // acc = load ? C tile : 0
  f.get(load).if();
  forEachRow((i) => {
    for (let v = 0; v < NV; v++) f.get(cr).op("v128.load", 16 * v).set(acc[i][v]);
  });
  f.else();
  f.op("v128.const", new Uint8Array(16)).set(acc[0][0]);
  for (let i = 0; i < MR; i++) for (let v = 0; v < NV; v++) if (i + v > 0) f.get(acc[0][0]).set(acc[i][v]);
  f.end();
  // k loop over one A panel and one B panel
  f.get(ap).set(pa).get(bp).set(pb);
  f.get(ap).get(kc).i32(MR * 4).op("i32.mul").op("i32.add").set(kEnd);
  const loopK = f.loop();
  for (let v = 0; v < NV; v++) f.get(pb).op("v128.load", 16 * v).set(b[v]);
  for (let i = 0; i < MR; i++) {
    f.get(pa).op("v128.load32_splat", 4 * i).set(a);
    for (let v = 0; v < NV; v++) {
      if (fma) f.get(a).get(b[v]).get(acc[i][v]).op("f32x4.relaxed_madd").set(acc[i][v]);
      else f.get(acc[i][v]).get(a).get(b[v]).op("f32x4.mul").op("f32x4.add").set(acc[i][v]);
    }
  }
  bump(f, pb, NR * 4);
  f.get(pa).i32(MR * 4).op("i32.add").tee(pa);
  f.get(kEnd).op("i32.lt_u").brIf(loopK);
  f.end();
  // C tile = acc
  forEachRow((i) => {
    for (let v = 0; v < NV; v++) f.get(cr).get(acc[i][v]).op("v128.store", 16 * v);
  });
  // the next A panel starts where the k loop stopped; the next tile is MR rows down
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

function emitPackContig(W: number): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32"], []);
  const [src, sk, dst, kc, nPanels] = f.params;
  const q = f.local("i32");
  const s = f.local("i32");
  const kEnd = f.local("i32");
  const loopQ = f.loop();
  f.get(src).get(q).i32(W * 4).op("i32.mul").op("i32.add").set(s);
  f.get(dst).get(kc).i32(W * 4).op("i32.mul").op("i32.add").set(kEnd);
  const loopK = f.loop();
  for (let v = 0; v < W / 4; v++) f.get(dst).get(s).op("v128.load", 16 * v).op("v128.store", 16 * v);
  bump(f, s, sk);
  f.get(dst).i32(W * 4).op("i32.add").tee(dst);
  f.get(kEnd).op("i32.lt_u").brIf(loopK);
  f.end();
  f.get(q).i32(1).op("i32.add").tee(q);
  f.get(nPanels).op("i32.lt_u").brIf(loopQ);
  f.end();
  return f;
}

/** f32 lane indices (0-3 from the first operand, 4-7 from the second) as i8x16.shuffle byte indices. */
function lanes(l: readonly number[]): number[] {
  return l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
}
const LO = lanes([0, 4, 1, 5]); // unpacklo
const HI = lanes([2, 6, 3, 7]); // unpackhi
const LOW_HALVES = lanes([0, 1, 4, 5]);
const HIGH_HALVES = lanes([2, 3, 6, 7]);

function emitPackTrans(W: number): FunctionBuilder {
  const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32"], []);
  const [src, sp, dst, kc, nPanels] = f.params;
  const q = f.local("i32");
  const kb = f.local("i32"); // k * 4
  const k4 = f.local("i32"); // (kc & ~3) * 4
  const kcb = f.local("i32"); // kc * 4
  const rows = Array.from({ length: W }, () => f.local("i32"));
  const r = Array.from({ length: 4 }, () => f.local("v128"));
  const t = Array.from({ length: 4 }, () => f.local("v128"));
  f.get(kc).i32(-4).op("i32.and").i32(4).op("i32.mul").set(k4);
  f.get(kc).i32(4).op("i32.mul").set(kcb);
  const loopQ = f.loop();
  // rows[w] = src + (q*W + w) * sp
  f.get(src).get(q).i32(W).op("i32.mul").get(sp).op("i32.mul").op("i32.add").set(rows[0]);
  for (let w = 1; w < W; w++) f.get(rows[w - 1]).get(sp).op("i32.add").set(rows[w]);
  f.i32(0).set(kb);
  const done4 = f.block();
  f.get(k4).op("i32.eqz").brIf(done4);
  const loop4 = f.loop();
  for (let blk = 0; blk < W / 4; blk++) {
    for (let w = 0; w < 4; w++) f.get(rows[4 * blk + w]).get(kb).op("i32.add").op("v128.load").set(r[w]);
    f.get(r[0]).get(r[1]).op("i8x16.shuffle", LO).set(t[0]);
    f.get(r[0]).get(r[1]).op("i8x16.shuffle", HI).set(t[1]);
    f.get(r[2]).get(r[3]).op("i8x16.shuffle", LO).set(t[2]);
    f.get(r[2]).get(r[3]).op("i8x16.shuffle", HI).set(t[3]);
    // k step j of this 4-block: lanes 4*blk.. of dst row j
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
  f.get(kb).i32(16).op("i32.add").tee(kb);
  f.get(k4).op("i32.lt_u").brIf(loop4);
  f.end();
  f.end();
  // tail: k in [kc & ~3, kc), one scalar per lane
  const doneTail = f.block();
  f.get(kb).get(kcb).op("i32.ge_u").brIf(doneTail);
  const loopTail = f.loop();
  for (let w = 0; w < W; w++) f.get(dst).get(rows[w]).get(kb).op("i32.add").op("f32.load").op("f32.store", 4 * w);
  bump(f, dst, W * 4);
  f.get(kb).i32(4).op("i32.add").tee(kb);
  f.get(kcb).op("i32.lt_u").brIf(loopTail);
  f.end();
  f.end();
  f.get(q).i32(1).op("i32.add").tee(q);
  f.get(nPanels).op("i32.lt_u").brIf(loopQ);
  f.end();
  return f;
}

/** Adds block and the four packers to a module, exported under the GemmExports names. */
export function addGemmFunctions(m: ModuleBuilder, t: TileShape): void {
  m.addFunction(emitBlock(t), "block");
  m.addFunction(emitPackContig(t.MR), "packContigA");
  m.addFunction(emitPackTrans(t.MR), "packTransA");
  m.addFunction(emitPackContig(t.NR), "packContigB");
  m.addFunction(emitPackTrans(t.NR), "packTransB");
}
