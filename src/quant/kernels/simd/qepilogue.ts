// Driver of the SIMD fused output stage (qepilogue_kernel.ts): per-channel tables and call descriptors in the
// integer runtime's memory, the variant picked from the spec. qepilogueSimd is qepilogueNaive's contract on arrays
// (tested bit for bit); runEpilogueAt works on data already in wasm memory (the fused ResNet pipeline).
import type { AccLayout } from "../cpu/requantize.js";
import { type EpilogueChannels, type EpilogueResult, type EpilogueSpec, validateEpilogue } from "../cpu/qepilogue.js";
import { EPILOGUE_DESC_INTS, EPILOGUE_SLACK, EPILOGUE_TABLE_BYTES, epilogueName } from "./qepilogue_kernel.js";
import { Arena, type QSimdRuntime, ensureBytes, getQRuntime } from "./runtime.js";

/** Writes one 32-byte entry (layout in qepilogue_kernel.ts) for multiplyByQuantizedMultiplier(., multiplier, shift). */
function writeEntry(i32: Int32Array, at: number, bias: number, multiplier: number, shift: number, post: number): void {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const rsh = 31 - left;
  const o = at >> 2;
  i32[o] = bias;
  i32[o + 1] = multiplier;
  i32[o + 2] = rsh;
  i32[o + 3] = right;
  i32[o + 4] = post;
  i32[o + 5] = (2 ** right - 1) | 0;
  // nudge = 2^(rsh - 1) as a little-endian i64; rsh in [1, 31], so it fits the low word
  i32[o + 6] = 2 ** (rsh - 1) | 0;
  i32[o + 7] = 0;
}

/** Bytes of the per-channel table of `channels` channels. */
export function epilogueTableBytes(channels: number): number {
  return channels * EPILOGUE_TABLE_BYTES;
}

/** Writes the per-channel table of `ch` at byte address `at` (64-byte aligned by the caller's Arena). */
export function writeEpilogueTable(rt: QSimdRuntime, at: number, ch: EpilogueChannels): void {
  for (let c = 0; c < ch.bias.length; c++) writeEntry(rt.i32, at + c * EPILOGUE_TABLE_BYTES, ch.bias[c], ch.multiplier[c], ch.shift[c], ch.post[c]);
}

/** Where one epilogue call reads and writes, byte addresses in the runtime's memory (-1: unused). */
export interface EpilogueAddresses {
  acc: number;
  /** Per-channel table (writeEpilogueTable). */
  table: number;
  /** Residual operand, same layout as acc. */
  sc: number;
  /** One table entry for the residual's multiplier (writeShortcutEntry). */
  scTable: number;
  values: number;
  codes: number;
  /** EPILOGUE_DESC_INTS int32 of scratch for the descriptor. */
  desc: number;
}

/** Writes the single table entry of a "rescale" shortcut. */
export function writeShortcutEntry(rt: QSimdRuntime, at: number, multiplier: number, shift: number): void {
  writeEntry(rt.i32, at, 0, multiplier, shift, 0);
}

/**
 * Runs the output stage over `rows` rows of P elements (row r: channel r % channels) already in memory. The spec's
 * channel arrays are not read (the table at a.table is); its shortcut kind, clamp and outputs pick the variant.
 * Preconditions as qepilogueNaive's, checked by the caller (the planner's bounds); rows, P >= 1.
 */
export function runEpilogueAt(rt: QSimdRuntime, a: EpilogueAddresses, rows: number, p: number, channels: number, spec: EpilogueSpec): void {
  const scMode = spec.shortcut.kind === "none" ? 0 : spec.shortcut.kind === "rescale" ? 1 : 2;
  const k = spec.codes;
  const codesMode = k === null ? 0 : k.exponent === 0 ? 1 : 2;
  const fn = rt.epilogue.get(epilogueName(scMode, spec.values, codesMode));
  if (!fn) throw new Error(`runEpilogueAt: no kernel variant for ${JSON.stringify({ scMode, values: spec.values, codesMode })}`);
  const d = a.desc >> 2;
  const i32 = rt.i32;
  i32[d] = a.acc;
  i32[d + 1] = rows;
  i32[d + 2] = p;
  i32[d + 3] = channels;
  i32[d + 4] = a.table;
  i32[d + 5] = a.sc;
  i32[d + 6] = a.scTable;
  i32[d + 7] = spec.lo;
  i32[d + 8] = spec.hi;
  i32[d + 9] = a.values;
  i32[d + 10] = a.codes;
  i32[d + 11] = k?.exponent ?? 0;
  i32[d + 12] = k?.zeroPoint ?? 0;
  i32[d + 13] = k?.qmin ?? 0;
  i32[d + 14] = k?.qmax ?? 0;
  i32[d + 15] = spec.accShift;
  fn(a.desc);
}

/**
 * qepilogueNaive's contract on the SIMD kernel (arrays copied in and out of wasm memory); bit-exact with it wherever
 * the reference's intermediates stay in int32 (the reference throws otherwise).
 * @example qepilogueSimd(acc, {channels: K, inner: OH * OW}, spec, null)
 */
export function qepilogueSimd(acc: Int32Array, layout: AccLayout, spec: EpilogueSpec, sc: Int32Array | null): EpilogueResult {
  validateEpilogue("qepilogueSimd", acc.length, layout, spec, sc);
  const n = acc.length;
  const values = spec.values ? new Int32Array(n) : null;
  const codes = spec.codes ? new Uint8Array(n) : null;
  if (n === 0) return { values, codes };
  const rt = getQRuntime();
  const arena = new Arena();
  const at: EpilogueAddresses = {
    acc: arena.take(4 * n + EPILOGUE_SLACK),
    table: arena.take(epilogueTableBytes(layout.channels)),
    sc: sc ? arena.take(4 * n + EPILOGUE_SLACK) : -1,
    scTable: arena.take(EPILOGUE_TABLE_BYTES),
    values: values ? arena.take(4 * n) : -1,
    codes: codes ? arena.take(n) : -1,
    desc: arena.take(4 * EPILOGUE_DESC_INTS),
  };
  ensureBytes(rt, arena.end);
  rt.i32.set(acc, at.acc >> 2);
  if (sc) rt.i32.set(sc, at.sc >> 2);
  writeEpilogueTable(rt, at.table, spec.channels);
  if (spec.shortcut.kind === "rescale") writeShortcutEntry(rt, at.scTable, spec.shortcut.multiplier, spec.shortcut.shift);
  runEpilogueAt(rt, at, n / layout.inner, layout.inner, layout.channels, spec);
  if (values) values.set(rt.i32.subarray(at.values >> 2, (at.values >> 2) + n));
  if (codes) codes.set(rt.u8.subarray(at.codes, at.codes + n));
  return { values, codes };
}
