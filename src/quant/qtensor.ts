// Quantized tensors: integer codes plus the affine map back to reals, per tensor or per channel,
// following gemmlowp quantization.md and PyTorch's fake-quant (round half to even, clamp to the code range).
//   real = scale * (q - zeroPoint)
// Codes of 2..8 bits are stored one per byte: Int8Array when `signed`, Uint8Array otherwise (no bit packing).
import { Tensor } from "../tensor/tensor.js";
import { ShapeError, shapeStr, sizeOf } from "../tensor/shape.js";
import { simdSupported } from "../wasm/features.js";
import { fakeQuantizeScalar } from "./kernels/cpu/fake_quantize.js";
import { fakeQuantizeSimd } from "./kernels/simd/fake_quantize.js";
import { roundHalfToEven } from "./rounding.js";

/** Integer codes: Int8Array for signed codes, Uint8Array for unsigned ones (2..8 bits each, one per byte). */
export type QCodes = Int8Array | Uint8Array;

/**
 * How codes map to reals: `real = scale[c] * (q - zeroPoint[c])`, with `c` the index along `axis`
 * (per channel) or 0 (`axis === null`, per tensor: `scale` and `zeroPoint` have length 1).
 * Every zero point lies inside the code range, so real 0.0 is exactly representable (it is q = zeroPoint).
 */
export interface QParams {
  /** Code width, 2..8. */
  readonly bits: number;
  /** Signed codes (Int8Array) or unsigned codes (Uint8Array). */
  readonly signed: boolean;
  /** Signed only: drop the lowest code, [-(2^(b-1)-1), 2^(b-1)-1], for symmetric weights (TFLite narrow_range). */
  readonly narrow: boolean;
  /** Float32 step per code, > 0; length 1 or shape[axis]. */
  readonly scale: Float32Array;
  /** Code of real 0.0; same length as `scale`. */
  readonly zeroPoint: Int32Array;
  /** Channel axis, or null for per-tensor parameters. */
  readonly axis: number | null;
}

/** A quantized tensor: `real = scale * (q - zeroPoint)` elementwise, see {@link QParams}. */
export interface QTensor extends QParams {
  /** Row-major codes of `shape`. */
  readonly data: QCodes;
  readonly shape: readonly number[];
}

/** Round-trip bound: |x - dequantize(quantize(x))| <= MAX_ROUNDTRIP_ERROR_IN_SCALES * scale inside the range. */
export const MAX_ROUNDTRIP_ERROR_IN_SCALES = 0.5;

/** Smallest scale chooseQParams returns (FLT_EPSILON, as PyTorch's observers), so x / scale stays finite. */
export const MIN_SCALE = 2 ** -23;

export interface QRange {
  readonly qmin: number;
  readonly qmax: number;
}

function assertBits(op: string, bits: number): void {
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) {
    throw new RangeError(`${op}: bits must be an integer in 2..8, got ${bits}`);
  }
}

/**
 * The code range for a width and signedness:
 * signed [-(2^(b-1)), 2^(b-1)-1]; signed narrow [-(2^(b-1)-1), 2^(b-1)-1]; unsigned [0, 2^b-1].
 * @example qRange(8, true) -> {qmin: -128, qmax: 127}; qRange(8, true, {narrow: true}) -> {qmin: -127, qmax: 127}
 */
export function qRange(bits: number, signed: boolean, opts: { narrow?: boolean } = {}): QRange {
  assertBits("qRange", bits);
  const narrow = opts.narrow ?? false;
  if (!signed) {
    if (narrow) throw new RangeError("qRange: narrow ranges are defined for signed codes only");
    return { qmin: 0, qmax: 2 ** bits - 1 };
  }
  const half = 2 ** (bits - 1);
  return { qmin: narrow ? -(half - 1) : -half, qmax: half - 1 };
}

/** Range of a QParams (its bits, signedness and narrowness). */
export function rangeOf(p: Pick<QParams, "bits" | "signed" | "narrow">): QRange {
  return qRange(p.bits, p.signed, { narrow: p.narrow });
}

/**
 * Scale and zero point for one real interval, after widening it to include 0.
 * Asymmetric: scale = (max - min) / (qmax - qmin), zeroPoint = qmin - roundHalfToEven(min / scale), clamped.
 * Symmetric: zeroPoint = 0 (signed) or 2^(b-1) (unsigned), scale = max|x| / (2^(b-1) - 1), so that +-max|x| are codes.
 */
function scaleAndZeroPoint(
  op: string,
  min: number,
  max: number,
  bits: number,
  signed: boolean,
  symmetric: boolean,
  range: QRange,
): { scale: number; zeroPoint: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`${op}: need finite min <= max, got [${min}, ${max}]`);
  }
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (symmetric) {
    const maxAbs = Math.max(-lo, hi);
    const scale = Math.max(Math.fround(maxAbs / (2 ** (bits - 1) - 1)), MIN_SCALE);
    return { scale, zeroPoint: signed ? 0 : 2 ** (bits - 1) };
  }
  const scale = Math.max(Math.fround((hi - lo) / (range.qmax - range.qmin)), MIN_SCALE);
  const zp = range.qmin - roundHalfToEven(lo / scale);
  return { scale, zeroPoint: Math.min(Math.max(zp, range.qmin), range.qmax) };
}

/**
 * Per-tensor parameters covering [min, max] (first widened to include 0, so real 0.0 is exact).
 * @example chooseQParams(-1, 3, 8, false, false) -> scale 4/255, zeroPoint 64 (0.0 is code 64)
 */
export function chooseQParams(
  min: number,
  max: number,
  bits: number,
  signed: boolean,
  symmetric: boolean,
  opts: { narrow?: boolean } = {},
): QParams {
  const narrow = opts.narrow ?? false;
  const range = qRange(bits, signed, { narrow });
  const { scale, zeroPoint } = scaleAndZeroPoint("chooseQParams", min, max, bits, signed, symmetric, range);
  return { bits, signed, narrow, scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zeroPoint), axis: null };
}

/**
 * Per-channel parameters along `axis`: channel c covers [min[c], max[c]] (each widened to include 0).
 * @example chooseQParamsPerChannel([-1, -2], [1, 2], 0, 8, true, true, {narrow: true}) -> scales [1/127, 2/127]
 */
export function chooseQParamsPerChannel(
  min: ArrayLike<number>,
  max: ArrayLike<number>,
  axis: number,
  bits: number,
  signed: boolean,
  symmetric: boolean,
  opts: { narrow?: boolean } = {},
): QParams {
  if (min.length !== max.length || min.length === 0) {
    throw new ShapeError("chooseQParamsPerChannel", `min and max need the same nonzero length, got ${min.length} and ${max.length}`);
  }
  const narrow = opts.narrow ?? false;
  const range = qRange(bits, signed, { narrow });
  const scale = new Float32Array(min.length);
  const zeroPoint = new Int32Array(min.length);
  for (let c = 0; c < min.length; c++) {
    const p = scaleAndZeroPoint("chooseQParamsPerChannel", min[c], max[c], bits, signed, symmetric, range);
    scale[c] = p.scale;
    zeroPoint[c] = p.zeroPoint;
  }
  return { bits, signed, narrow, scale, zeroPoint, axis };
}

/** outer x channels x inner view of a row-major shape around `axis` (axis null: one channel). */
export interface ChannelLayout {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
}

/** Splits `shape` around `axis` so that element i belongs to channel floor(i / inner) % channels. */
export function channelLayout(op: string, shape: readonly number[], axis: number | null): ChannelLayout {
  const size = sizeOf(shape);
  if (axis === null) return { outer: 1, channels: 1, inner: size };
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new ShapeError(op, `axis ${axis} out of range for shape ${shapeStr(shape)}`);
  }
  return { outer: sizeOf(shape.slice(0, axis)), channels: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

/** Checks bits, range, lengths and values of `p` against `shape`; returns the channel layout. */
export function validateQParams(op: string, p: QParams, shape: readonly number[]): ChannelLayout {
  assertBits(op, p.bits);
  const { qmin, qmax } = rangeOf(p);
  const layout = channelLayout(op, shape, p.axis);
  if (p.scale.length !== layout.channels || p.zeroPoint.length !== layout.channels) {
    throw new ShapeError(
      op,
      `${p.axis === null ? "per-tensor" : `axis ${p.axis}`} params for shape ${shapeStr(shape)} need ` +
        `${layout.channels} scale/zeroPoint values, got ${p.scale.length}/${p.zeroPoint.length}`,
    );
  }
  for (let c = 0; c < layout.channels; c++) {
    if (!(p.scale[c] > 0) || !Number.isFinite(p.scale[c])) throw new RangeError(`${op}: scale[${c}] = ${p.scale[c]} must be finite and > 0`);
    if (p.zeroPoint[c] < qmin || p.zeroPoint[c] > qmax) {
      throw new RangeError(`${op}: zeroPoint[${c}] = ${p.zeroPoint[c]} outside the code range [${qmin}, ${qmax}]`);
    }
  }
  return layout;
}

function allocCodes(signed: boolean, n: number): QCodes {
  return signed ? new Int8Array(n) : new Uint8Array(n);
}

/** Code for one real: clamp(roundHalfToEven(x / scale) + zeroPoint, qmin, qmax); NaN maps to the zero point. */
function toCode(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  // NOTE: x / scale is one correctly rounded double division; PyTorch multiplies by float32(1/scale) instead,
  // which can pick the other code for values within ~1e-7 of a tie.
  if (x !== x) return zeroPoint;
  const q = roundHalfToEven(x / scale) + zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

function resolveInput(op: string, x: Tensor | Float32Array, shape?: readonly number[]): { data: Float32Array; shape: readonly number[] } {
  if (x instanceof Tensor) return { data: x.data, shape: x.shape };
  const s = shape ?? [x.length];
  if (sizeOf(s) !== x.length) throw new ShapeError(op, `shape ${shapeStr(s)} needs ${sizeOf(s)} values, got ${x.length}`);
  return { data: x, shape: s };
}

/**
 * Quantizes reals to codes with round-half-to-even and saturation at the range ends.
 * A bare Float32Array is treated as shape [length] unless `shape` is given (needed for per-channel params).
 * @example quantize(Float32Array.of(-1, 0, 2.5), chooseQParams(-1, 3, 8, false, false)).data -> Uint8Array [0, 64, 223]
 */
export function quantize(x: Tensor | Float32Array, params: QParams, shape?: readonly number[]): QTensor {
  const input = resolveInput("quantize", x, shape);
  const { outer, channels, inner } = validateQParams("quantize", params, input.shape);
  const { qmin, qmax } = rangeOf(params);
  const out = allocCodes(params.signed, input.data.length);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = params.scale[c];
      const z = params.zeroPoint[c];
      for (let j = 0; j < inner; j++, i++) out[i] = toCode(input.data[i], s, z, qmin, qmax);
    }
  }
  return { ...pickParams(params), data: out, shape: Object.freeze([...input.shape]) };
}

function pickParams(p: QParams): QParams {
  return { bits: p.bits, signed: p.signed, narrow: p.narrow, scale: p.scale, zeroPoint: p.zeroPoint, axis: p.axis };
}

/**
 * Wraps existing codes as a QTensor after checking them against `params` (lengths, dtype, code range).
 * @example createQTensor([2], Int8Array.of(-3, 5), chooseQParams(-1, 1, 8, true, true, {narrow: true}))
 */
export function createQTensor(shape: readonly number[], data: QCodes, params: QParams): QTensor {
  validateQParams("createQTensor", params, shape);
  if (data.length !== sizeOf(shape)) throw new ShapeError("createQTensor", `shape ${shapeStr(shape)} needs ${sizeOf(shape)} codes, got ${data.length}`);
  if (params.signed !== data instanceof Int8Array) {
    throw new TypeError(`createQTensor: ${params.signed ? "signed codes need an Int8Array" : "unsigned codes need a Uint8Array"}`);
  }
  const { qmin, qmax } = rangeOf(params);
  for (let i = 0; i < data.length; i++) {
    if (data[i] < qmin || data[i] > qmax) throw new RangeError(`createQTensor: code ${data[i]} at ${i} outside [${qmin}, ${qmax}]`);
  }
  return { ...pickParams(params), data, shape: Object.freeze([...shape]) };
}

/**
 * Reals from codes, `scale * (q - zeroPoint)` rounded once to float32.
 * @example dequantize(quantize(t, p)) is t with every value moved to its nearest code (within scale / 2)
 */
export function dequantize(q: QTensor): Tensor {
  const { outer, channels, inner } = validateQParams("dequantize", q, q.shape);
  const out = new Float32Array(q.data.length);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = q.scale[c];
      const z = q.zeroPoint[c];
      for (let j = 0; j < inner; j++, i++) out[i] = s * (q.data[i] - z); // exact in double, rounded on store
    }
  }
  return new Tensor(q.shape, out);
}

/**
 * Per-tensor arrays of at least this many floats go to the SIMD128 kernel (fakeQuantizeSimd), when the engine has it.
 * Below it the call and the copies through wasm memory cost more than the kernel saves: measured crossover between
 * 16 (scalar 56 ns, SIMD 85 ns a call) and 64 floats (388 vs 359 ns), Node 20 on x64 (AMD EPYC).
 */
export const FAKE_QUANT_SIMD_MIN = 32;

/**
 * The reference fake quantization: per element the code (toCode) and its real value, `s * (q - z)` rounded once to
 * float32, any layout. fakeQuantize's per-tensor fast paths (kernels/cpu and kernels/simd fake_quantize.ts) are
 * tested bit for bit against it.
 */
export function fakeQuantizeNaive(data: Float32Array, params: QParams, layout: ChannelLayout): Float32Array {
  const { outer, channels, inner } = layout;
  const { qmin, qmax } = rangeOf(params);
  const out = new Float32Array(data.length);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = params.scale[c];
      const z = params.zeroPoint[c];
      for (let j = 0; j < inner; j++, i++) out[i] = s * (toCode(data[i], s, z, qmin, qmax) - z);
    }
  }
  return out;
}

/**
 * dequantize(quantize(x, params)) in one pass, without materializing codes; same shape and type as `x`.
 * One channel (per-tensor params): the tight scalar loop or, from FAKE_QUANT_SIMD_MIN floats, the SIMD128 kernel;
 * otherwise fakeQuantizeNaive. All three give the same bits.
 * @example fakeQuantize(Float32Array.of(0.3), chooseQParams(0, 1, 2, false, false)) -> Float32Array [1/3]
 */
export function fakeQuantize(x: Tensor, params: QParams): Tensor;
export function fakeQuantize(x: Float32Array, params: QParams, shape?: readonly number[]): Float32Array;
export function fakeQuantize(x: Tensor | Float32Array, params: QParams, shape?: readonly number[]): Tensor | Float32Array {
  const input = resolveInput("fakeQuantize", x, shape);
  const layout = validateQParams("fakeQuantize", params, input.shape);
  let out: Float32Array;
  if (layout.channels === 1) {
    const { qmin, qmax } = rangeOf(params);
    const fast = input.data.length >= FAKE_QUANT_SIMD_MIN && simdSupported() ? fakeQuantizeSimd : fakeQuantizeScalar;
    out = fast(input.data, params.scale[0], params.zeroPoint[0], qmin, qmax);
  } else {
    out = fakeQuantizeNaive(input.data, params, layout);
  }
  return x instanceof Tensor ? new Tensor(x.shape, out) : out;
}
