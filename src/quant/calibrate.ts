// Observers and clipping-range search for post-training quantization, on plain Float32Array samples.
// min-max and percentile observers give a range; the search (PTQ4ViT, Yuan et al., ECCV 2022, Sec. 4.2, without the
// optional Hessian-guided weighting) scales that range by each alpha of a grid and keeps the one whose fake-quantized
// input gives the layer OUTPUT closest to the float output, by MSE or by (negative) cosine similarity.
import { ShapeError, shapeStr, sizeOf } from "../tensor/shape.js";
import { channelLayout, chooseQParams, chooseQParamsPerChannel, fakeQuantize, type QParams } from "./qtensor.js";

export interface Range {
  readonly min: number;
  readonly max: number;
}

/** "mse": mean squared error; "cosine": 1 - cosine similarity (both: lower is better, 0 is a perfect match). */
export type OutputMetric = "mse" | "cosine";

/** n evenly spaced points from lo to hi inclusive (numpy.linspace). */
export function linspace(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [hi];
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** Default search grid: 100 alphas from 0.5 to 1.0, so the min-max range itself (alpha = 1) is always a candidate. */
export const DEFAULT_ALPHA_GRID: readonly number[] = Object.freeze(linspace(0.5, 1, 100));

/**
 * PTQ4ViT's candidate grid, eqAlpha + i * (eqBeta - eqAlpha) / eqN for i = 0..eqN (reference code, quant_layers),
 * dropping non-positive values.
 * @example ptq4vitAlphaGrid(0, 1, 100) // 0.01, 0.02, ..., 1.0
 */
export function ptq4vitAlphaGrid(eqAlpha: number, eqBeta: number, eqN: number): number[] {
  return Array.from({ length: eqN + 1 }, (_, i) => eqAlpha + (i * (eqBeta - eqAlpha)) / eqN).filter((a) => a > 0);
}

/**
 * Smallest and largest finite value (NaN ignored); throws on an input without finite values.
 * @example minMax(Float32Array.of(3, -1, 2)) -> {min: -1, max: 3}
 */
export function minMax(x: Float32Array): Range {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`minMax: no finite values among ${x.length}`);
  return { min, max };
}

/**
 * min and max per channel along `axis` of a row-major `shape` (weights: axis 0 = output channels).
 * @example minMaxPerChannel(w, [64, 3, 3, 3], 0) -> {min: Float32Array(64), max: Float32Array(64)}
 */
export function minMaxPerChannel(x: Float32Array, shape: readonly number[], axis: number): { min: Float32Array; max: Float32Array } {
  if (sizeOf(shape) !== x.length) throw new ShapeError("minMaxPerChannel", `shape ${shapeStr(shape)} does not hold ${x.length} values`);
  const { outer, channels, inner } = channelLayout("minMaxPerChannel", shape, axis);
  const min = new Float32Array(channels).fill(Number.POSITIVE_INFINITY);
  const max = new Float32Array(channels).fill(Number.NEGATIVE_INFINITY);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      for (let j = 0; j < inner; j++, i++) {
        const v = x[i];
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
      }
    }
  }
  for (let c = 0; c < channels; c++) {
    if (!Number.isFinite(min[c]) || !Number.isFinite(max[c])) throw new RangeError(`minMaxPerChannel: channel ${c} has no finite values`);
  }
  return { min, max };
}

/** Linear-interpolated quantile of sorted values, q in [0, 1] (numpy's default "linear" method). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile observer. "abs": t = percentile(|x|, percent), range [-t, t]; "tails": [percentile(x, 100 - percent),
 * percentile(x, percent)], each tail clipped on its own. NaNs are ignored.
 * @example percentileRange(x, 99.99, "tails")
 */
export function percentileRange(x: Float32Array, percent: number, mode: "abs" | "tails"): Range {
  if (!(percent >= 0 && percent <= 100)) throw new RangeError(`percentileRange: percent must be in [0, 100], got ${percent}`);
  const values = Float64Array.from(x.filter((v) => v === v).map(mode === "abs" ? Math.abs : (v) => v));
  if (values.length === 0) throw new RangeError("percentileRange: no values");
  values.sort();
  if (mode === "abs") {
    const t = quantileSorted(values, percent / 100);
    return { min: -t, max: t };
  }
  const lo = Math.min(percent, 100 - percent) / 100;
  return { min: quantileSorted(values, lo), max: quantileSorted(values, 1 - lo) };
}

/** Mean squared difference. */
export function mse(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new ShapeError("mse", `lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return a.length === 0 ? 0 : s / a.length;
}

/** Cosine similarity of two vectors (1 when both are zero, 0 when exactly one is). */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new ShapeError("cosineSimilarity", `lengths differ: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

/**
 * Loss of a quantized layer output against the float reference under `metric` (lower is better).
 * @example outputLoss("cosine", ref, out) === 1 - cosineSimilarity(ref, out)
 */
export function outputLoss(metric: OutputMetric, reference: Float32Array, output: Float32Array): number {
  switch (metric) {
    case "mse":
      return mse(reference, output);
    case "cosine":
      return 1 - cosineSimilarity(reference, output);
    default:
      return metric satisfies never;
  }
}

export interface RangeSearchOptions {
  readonly bits: number;
  readonly signed: boolean;
  readonly symmetric: boolean;
  readonly narrow?: boolean;
  /** Default "mse". */
  readonly metric?: OutputMetric;
  /** Multipliers of the base range; default DEFAULT_ALPHA_GRID. */
  readonly alphas?: readonly number[];
  /** Range to scale; default minMax(x). */
  readonly baseRange?: Range;
}

export interface RangeSearchResult {
  /** Per-tensor parameters of the best candidate. */
  readonly params: QParams;
  readonly alpha: number;
  readonly range: Range;
  readonly loss: number;
  /** Loss of every alpha, in grid order. */
  readonly losses: Float64Array;
}

function checkAlphas(op: string, alphas: readonly number[]): void {
  if (alphas.length === 0 || !alphas.every((a) => a > 0 && Number.isFinite(a))) {
    throw new RangeError(`${op}: alphas must be a non-empty list of positive numbers`);
  }
}

/**
 * Clipping-range search for a layer input x: candidates [alpha * min, alpha * max] (symmetric: alpha * max|x|);
 * each is scored by outputLoss(metric, layer(x), layer(fakeQuantize(x))). The first best alpha wins ties.
 * @example searchClippingRange(x, (xq) => linear(xq, w), {bits: 8, signed: false, symmetric: false, metric: "cosine"})
 */
export function searchClippingRange(
  x: Float32Array,
  layerOutput: (xq: Float32Array) => Float32Array,
  opts: RangeSearchOptions,
): RangeSearchResult {
  const alphas = opts.alphas ?? DEFAULT_ALPHA_GRID;
  checkAlphas("searchClippingRange", alphas);
  const metric = opts.metric ?? "mse";
  const base = opts.baseRange ?? minMax(x);
  const reference = layerOutput(x);
  const losses = new Float64Array(alphas.length);
  let best = 0;
  for (let i = 0; i < alphas.length; i++) {
    const params = chooseQParams(alphas[i] * base.min, alphas[i] * base.max, opts.bits, opts.signed, opts.symmetric, { narrow: opts.narrow });
    losses[i] = outputLoss(metric, reference, layerOutput(fakeQuantize(x, params)));
    if (losses[i] < losses[best]) best = i;
  }
  const alpha = alphas[best];
  const range = { min: alpha * base.min, max: alpha * base.max };
  const params = chooseQParams(range.min, range.max, opts.bits, opts.signed, opts.symmetric, { narrow: opts.narrow });
  return { params, alpha, range, loss: losses[best], losses };
}

export interface PerChannelSearchResult {
  /** Per-channel parameters (axis = the weight's channel axis) with each channel's best alpha. */
  readonly params: QParams;
  readonly alphas: Float64Array;
  readonly losses: Float64Array;
}

/**
 * Per-channel clipping search for weights w (`shape`, channel `axis`): each channel c picks its own alpha by the loss
 * of output channel c (at `output.axis` of `output.shape`). All channels are scored in one layer call per alpha,
 * which equals searching each channel alone because output channel c depends on weight channel c only (linear, conv).
 * @example searchWeightRangePerChannel(w, [N, K], 0, (wq) => linear(x, wq), {shape: [M, N], axis: 1}, {bits: 8, signed: true, symmetric: true, narrow: true})
 */
export function searchWeightRangePerChannel(
  w: Float32Array,
  shape: readonly number[],
  axis: number,
  layerOutput: (wq: Float32Array) => Float32Array,
  output: { readonly shape: readonly number[]; readonly axis: number },
  opts: RangeSearchOptions,
): PerChannelSearchResult {
  const alphas = opts.alphas ?? DEFAULT_ALPHA_GRID;
  checkAlphas("searchWeightRangePerChannel", alphas);
  const metric = opts.metric ?? "mse";
  const base = minMaxPerChannel(w, shape, axis);
  const channels = base.min.length;
  const out = channelLayout("searchWeightRangePerChannel", output.shape, output.axis);
  if (out.channels !== channels) {
    throw new ShapeError("searchWeightRangePerChannel", `output axis ${output.axis} of ${shapeStr(output.shape)} has ${out.channels} channels, weights have ${channels}`);
  }
  const reference = layerOutput(w);
  if (reference.length !== sizeOf(output.shape)) {
    throw new ShapeError("searchWeightRangePerChannel", `layer output has ${reference.length} values, shape ${shapeStr(output.shape)} needs ${sizeOf(output.shape)}`);
  }
  const bestAlpha = new Float64Array(channels);
  const bestLoss = new Float64Array(channels).fill(Number.POSITIVE_INFINITY);
  const refC = new Float32Array(out.outer * out.inner);
  const outC = new Float32Array(out.outer * out.inner);
  for (const alpha of alphas) {
    const params = chooseQParamsPerChannel(
      base.min.map((v) => alpha * v),
      base.max.map((v) => alpha * v),
      axis,
      opts.bits,
      opts.signed,
      opts.symmetric,
      { narrow: opts.narrow },
    );
    const y = layerOutput(fakeQuantize(w, params, shape));
    for (let c = 0; c < channels; c++) {
      gatherChannel(reference, out, c, refC);
      gatherChannel(y, out, c, outC);
      const loss = outputLoss(metric, refC, outC);
      if (loss < bestLoss[c]) {
        bestLoss[c] = loss;
        bestAlpha[c] = alpha;
      }
    }
  }
  const params = chooseQParamsPerChannel(
    base.min.map((v, c) => bestAlpha[c] * v),
    base.max.map((v, c) => bestAlpha[c] * v),
    axis,
    opts.bits,
    opts.signed,
    opts.symmetric,
    { narrow: opts.narrow },
  );
  return { params, alphas: bestAlpha, losses: bestLoss };
}

/** Copies the values of channel c (outer x inner of them) out of a buffer laid out as outer x channels x inner. */
function gatherChannel(x: Float32Array, l: { outer: number; channels: number; inner: number }, c: number, out: Float32Array): void {
  let k = 0;
  for (let o = 0; o < l.outer; o++) {
    const base = (o * l.channels + c) * l.inner;
    for (let j = 0; j < l.inner; j++) out[k++] = x[base + j];
  }
}
