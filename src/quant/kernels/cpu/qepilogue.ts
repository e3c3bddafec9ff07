// Fused output stage of an integer conv in a quantized ResNet (BN folded, TFLite style): int32 accumulators ->
// int32 values in the next tensor's units and/or uint8 codes of the next layer's input, per element i of channel c:
//   v = multiplyByQuantizedMultiplier(acc[i] * 2^accShift + bias[c], multiplier[c], shift[c]) + post[c]   (conv, BN folded)
//   v += multiplyByQuantizedMultiplier(sc[i], scMultiplier, scShift)  or  v += sc[i]          (residual add, optional)
//   v = clamp(v, lo, hi)                                                                     (ReLU: lo = 0)
//   codes[i] = clamp(roundingDivideByPOT(v, exponent) + zeroPoint, qmin, qmax)               (optional)
// Channel c of element i is floor(i / inner) % channels (AccLayout of requantize.ts). Rounding: fixedpoint.ts
// (TFLite double rounding). This is the reference (naive loop); the SIMD kernel (kernels/simd/qepilogue.ts) must
// match it bit for bit. Every intermediate must stay in int32: the planner (src/quant/fused) bounds them, and this
// loop throws a RangeError naming the step where one does not.
import { ShapeError } from "../../../tensor/shape.js";
import { INT32_MAX, INT32_MIN, multiplyByQuantizedMultiplier, roundingDivideByPOT } from "../../fixedpoint.js";
import type { AccLayout } from "./requantize.js";

/** Per output channel [K]: the folded conv + BN requantization. */
export interface EpilogueChannels {
  /** Added to the accumulator scaled by 2^accShift, before the multiplier. */
  readonly bias: Int32Array;
  /** Q31 mantissa and exponent (quantizeMultiplier) of the real multiplier. */
  readonly multiplier: Int32Array;
  readonly shift: Int32Array;
  /** Added after the multiplier (output units). */
  readonly post: Int32Array;
}

/** The residual operand: none, an int32 tensor rescaled by one multiplier, or one already in output units. */
export type EpilogueShortcut = { readonly kind: "none" } | { readonly kind: "rescale"; readonly multiplier: number; readonly shift: number } | { readonly kind: "add" };

/** uint8 codes of the output: clamp(roundingDivideByPOT(v, exponent) + zeroPoint, qmin, qmax), 0 <= qmin <= qmax <= 255. */
export interface EpilogueCodes {
  readonly exponent: number;
  readonly zeroPoint: number;
  readonly qmin: number;
  readonly qmax: number;
}

export interface EpilogueSpec {
  readonly channels: EpilogueChannels;
  /** Fraction bits of the accumulator (0..15): it is scaled by 2^accShift before the bias (a finer bias). */
  readonly accShift: number;
  readonly shortcut: EpilogueShortcut;
  /** Clamp of the values (ReLU: lo = 0); INT32_MIN / INT32_MAX for none. */
  readonly lo: number;
  readonly hi: number;
  /** Whether the int32 values are returned. */
  readonly values: boolean;
  readonly codes: EpilogueCodes | null;
}

export interface EpilogueResult {
  values: Int32Array | null;
  codes: Uint8Array | null;
}

function int32(op: string, v: number, what: string, i: number): number {
  if (v < INT32_MIN || v > INT32_MAX) throw new RangeError(`${op}: ${what} of element ${i} leaves int32 (${v})`);
  return v;
}

/** Checks lengths and ranges of a spec for `channels` channels (shared by the reference and the SIMD driver). */
export function validateEpilogue(op: string, n: number, layout: AccLayout, spec: EpilogueSpec, sc: Int32Array | null): void {
  const { channels, inner } = layout;
  if (channels * inner === 0 ? n !== 0 : n % (channels * inner) !== 0) {
    throw new ShapeError(op, `${n} accumulators do not tile channels=${channels} x inner=${inner}`);
  }
  const ch = spec.channels;
  for (const [name, a] of [["bias", ch.bias], ["multiplier", ch.multiplier], ["shift", ch.shift], ["post", ch.post]] as const) {
    if (a.length !== channels) throw new ShapeError(op, `${name} must have ${channels} entries, got ${a.length}`);
  }
  for (let c = 0; c < channels; c++) {
    if (ch.shift[c] < -31 || ch.shift[c] > 30) throw new RangeError(`${op}: shift[${c}] = ${ch.shift[c]} outside [-31, 30]`);
  }
  if (spec.shortcut.kind === "none" ? sc !== null : sc === null || sc.length !== n) {
    throw new ShapeError(op, `shortcut '${spec.shortcut.kind}' needs ${spec.shortcut.kind === "none" ? "no" : n} residual values, got ${sc?.length ?? "none"}`);
  }
  if (spec.shortcut.kind === "rescale" && (spec.shortcut.shift < -31 || spec.shortcut.shift > 30)) {
    throw new RangeError(`${op}: shortcut shift ${spec.shortcut.shift} outside [-31, 30]`);
  }
  if (!Number.isInteger(spec.accShift) || spec.accShift < 0 || spec.accShift > 15) throw new RangeError(`${op}: accShift ${spec.accShift} outside [0, 15]`);
  if (!(spec.lo <= spec.hi)) throw new RangeError(`${op}: clamp [${spec.lo}, ${spec.hi}] is empty`);
  const k = spec.codes;
  if (k && !(k.exponent >= 0 && k.exponent <= 31 && k.zeroPoint >= 0 && k.zeroPoint <= 255 && k.qmin >= 0 && k.qmin <= k.qmax && k.qmax <= 255)) {
    throw new RangeError(`${op}: codes need exponent in [0, 31], zeroPoint in [0, 255] and 0 <= qmin <= qmax <= 255, got ${JSON.stringify(k)}`);
  }
  // NOTE: the zero point is added in int32 lanes by the SIMD kernel; hi leaves room so that sum cannot wrap.
  if (k && spec.hi > INT32_MAX - 255) throw new RangeError(`${op}: codes need hi <= ${INT32_MAX - 255}, got ${spec.hi}`);
}

/**
 * The output stage, one element at a time; see the file header.
 * @example qepilogueNaive(acc, {channels: K, inner: OH * OW}, {channels, accShift: 0, shortcut: {kind: "none"}, lo: 0, hi: 255 - z,
 *   values: false, codes: {exponent: 0, zeroPoint: z, qmin: 0, qmax: 255}}, null).codes
 */
export function qepilogueNaive(acc: Int32Array, layout: AccLayout, spec: EpilogueSpec, sc: Int32Array | null): EpilogueResult {
  const op = "qepilogueNaive";
  validateEpilogue(op, acc.length, layout, spec, sc);
  const { channels, inner } = layout;
  const ch = spec.channels;
  const s = spec.shortcut;
  const values = spec.values ? new Int32Array(acc.length) : null;
  const k = spec.codes;
  const codes = k ? new Uint8Array(acc.length) : null;
  for (let i = 0; i < acc.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const x = int32(op, acc[i] * 2 ** spec.accShift + ch.bias[c], "accumulator + bias", i);
    let v = int32(op, multiplyByQuantizedMultiplier(x, ch.multiplier[c], ch.shift[c]) + ch.post[c], "requantized + post", i);
    if (s.kind === "rescale") v = int32(op, v + multiplyByQuantizedMultiplier((sc as Int32Array)[i], s.multiplier, s.shift), "residual sum", i);
    else if (s.kind === "add") v = int32(op, v + (sc as Int32Array)[i], "residual sum", i);
    v = v < spec.lo ? spec.lo : v > spec.hi ? spec.hi : v;
    if (values) values[i] = v;
    if (k && codes) {
      const q = roundingDivideByPOT(v, k.exponent) + k.zeroPoint;
      codes[i] = q < k.qmin ? k.qmin : q > k.qmax ? k.qmax : q;
    }
  }
  return { values, codes };
}
