// Output stages for int32 accumulators of qgemm/qconv2d (gemmlowp output_stages.h; TFLite FullyConnected/Conv):
//   requantize: q = clamp(multiplyByQuantizedMultiplier(acc, M[c], shift[c]) + zOut, qmin, qmax),
//               with M[c] * 2^(shift[c] - 31) ~= sA * sW[c] / sOut (double-rounding path, see fixedpoint.ts);
//   dequantize: real = acc * float32(sA * sW[c]), rounded once to float32.
// Channel c of accumulator i is floor(i / inner) % channels: [M, N] has channels=N inner=1, [N, Cout, OH, OW] has
// channels=Cout inner=OH*OW.
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from "../../fixedpoint.js";
import { ShapeError } from "../../../tensor/shape.js";
import { rangeOf, validateQParams, type QCodes, type QParams } from "../../qtensor.js";

/** Where channels sit in an accumulator buffer; see the file header. */
export interface AccLayout {
  readonly channels: number;
  readonly inner: number;
}

/** Integer output stage: per-channel Q31 multipliers, the output zero point and its code range. */
export interface RequantizeStage {
  readonly multiplier: Int32Array; // [channels] or [1]
  readonly shift: Int32Array; // [channels] or [1]
  readonly zeroPoint: number;
  readonly qmin: number;
  readonly qmax: number;
  readonly signed: boolean;
}

/**
 * Builds the requantize stage for inputs of scale `inputScale`, weights of scale(s) `weightScale` and a per-tensor
 * `output`: M[c] = quantizeMultiplier(inputScale * weightScale[c] / output.scale) computed in double, as TFLite does.
 * @example makeRequantizeStage(0.02, wParams.scale, chooseQParams(-4, 4, 8, true, false))
 */
export function makeRequantizeStage(inputScale: number, weightScale: Float32Array, output: QParams): RequantizeStage {
  if (output.axis !== null) throw new ShapeError("makeRequantizeStage", "the output must be quantized per tensor");
  validateQParams("makeRequantizeStage", output, [1]);
  const multiplier = new Int32Array(weightScale.length);
  const shift = new Int32Array(weightScale.length);
  for (let c = 0; c < weightScale.length; c++) {
    const q = quantizeMultiplier((inputScale * weightScale[c]) / output.scale[0]);
    multiplier[c] = q.multiplier;
    shift[c] = q.shift;
  }
  const { qmin, qmax } = rangeOf(output);
  return { multiplier, shift, zeroPoint: output.zeroPoint[0], qmin, qmax, signed: output.signed };
}

function checkLayout(op: string, acc: Int32Array, layout: AccLayout, perChannel: number): void {
  if (layout.channels * layout.inner === 0 ? acc.length !== 0 : acc.length % (layout.channels * layout.inner) !== 0) {
    throw new ShapeError(op, `${acc.length} accumulators do not tile channels=${layout.channels} x inner=${layout.inner}`);
  }
  if (perChannel !== 1 && perChannel !== layout.channels) {
    throw new ShapeError(op, `need 1 or ${layout.channels} per-channel values, got ${perChannel}`);
  }
}

/**
 * int32 accumulators -> output codes (Int8Array if the stage is signed, else Uint8Array).
 * @example requantize(qgemmNaive(a, w, bias, p), {channels: p.n, inner: 1}, stage)
 */
export function requantize(acc: Int32Array, layout: AccLayout, stage: RequantizeStage): QCodes {
  checkLayout("requantize", acc, layout, stage.multiplier.length);
  if (stage.shift.length !== stage.multiplier.length) throw new ShapeError("requantize", "multiplier and shift lengths differ");
  const out = stage.signed ? new Int8Array(acc.length) : new Uint8Array(acc.length);
  const perChannel = stage.multiplier.length !== 1;
  const { channels, inner } = layout;
  for (let i = 0; i < acc.length; i++) {
    const c = perChannel ? Math.floor(i / inner) % channels : 0;
    const v = (multiplyByQuantizedMultiplier(acc[i], stage.multiplier[c], stage.shift[c]) + stage.zeroPoint) | 0;
    out[i] = v < stage.qmin ? stage.qmin : v > stage.qmax ? stage.qmax : v;
  }
  return out;
}

/**
 * int32 accumulators -> reals: acc * float32(inputScale * weightScale[c]), rounded to float32.
 * @example dequantizeAcc(qgemmNaive(a, w, bias, p), {channels: p.n, inner: 1}, aParams.scale[0], wParams.scale)
 */
export function dequantizeAcc(acc: Int32Array, layout: AccLayout, inputScale: number, weightScale: Float32Array): Float32Array {
  checkLayout("dequantizeAcc", acc, layout, weightScale.length);
  const scales = new Float32Array(weightScale.length); // the bias scale sA * sW[c], in float32
  for (let c = 0; c < weightScale.length; c++) scales[c] = inputScale * weightScale[c];
  const out = new Float32Array(acc.length);
  const perChannel = scales.length !== 1;
  const { channels, inner } = layout;
  // runs of `inner` accumulators share a channel: one scale per run, no per-element channel arithmetic
  for (let i = 0; i < acc.length; ) {
    for (let c = 0; c < channels; c++) {
      const s = scales[perChannel ? c : 0];
      for (const end = i + inner; i < end; i++) out[i] = acc[i] * s; // double product (error < 2^-53 relative), rounded to float32 on store
    }
  }
  return out;
}
