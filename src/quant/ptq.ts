// Post-training quantization of a whole model (issue: PTQ at W8A8 / W6A6 / W4A4).
// 1. Run the float model on N calibration images with a recording LayerOps: the input of every conv / linear and
//    both operands of every attention matmul.
// 2. Weights: per-output-channel symmetric, narrow range +-(2^(b-1)-1); "minmax" takes each channel's max |w|,
//    "search" picks each channel's clipping by the MSE / cosine of the layer output (PTQ4ViT, Yuan et al. 2022).
// 3. Activations: per-tensor asymmetric unsigned codes at the input of every conv / linear and for the matmul
//    operands; "minmax", "percentile", or "search" over clipping ranges scored on the layer output (with the
//    already-quantized weights). ViT: post-softmax (attn @ v input) and post-GELU (fc2 input) may use twin-uniform.
// First conv and last linear keep `edgeBits` (8 by default); BatchNorm is NOT folded (it stays a float affine after
// the integer conv, which is what ZOA adapts); LayerNorm, softmax and GELU stay float.
import type { LayerOps } from "../models/layers.js";
import { floatLayers } from "../models/layers.js";
import type { Classifier } from "../models/model.js";
import { conv2d, type Conv2dOptions } from "../tensor/ops/conv.js";
import { linear, matmul, type MatmulOptions } from "../tensor/ops/matmul.js";
import { slice } from "../tensor/ops/movement.js";
import { Tensor } from "../tensor/tensor.js";
import { type ActQuantizer, fakeQuantAct } from "./act.js";
import { type OutputMetric, minMax, percentileRange, searchClippingRange, searchWeightRangePerChannel } from "./calibrate.js";
import { type QParams, type QTensor, chooseQParams, chooseQParamsPerChannel, dequantize, quantize } from "./qtensor.js";
import { TwinUniformQuantizer } from "./twin_uniform.js";

export type CalibMethod = "minmax" | "percentile" | "search";

export interface QuantConfig {
  wbits: number;
  abits: number;
  /** Bits of the first conv (stem / patch embedding) and the last linear (head); null: same as the rest. */
  edgeBits: number | null;
  method: CalibMethod;
  /** Output metric of the search. */
  metric: OutputMetric;
  /** ViT: twin-uniform quantizers for post-softmax and post-GELU activations. */
  twinUniform: boolean;
  /** percentile method: the kept fraction in percent (e.g. 99.99). */
  percentile: number;
  /** search: images of the calibration batch used to score candidates (cost control). */
  searchImages: number;
  /** search: clipping multipliers tried. */
  alphas: readonly number[];
  /** Calibrate each layer on the outputs of the already-quantized layers before it (else on float activations). */
  sequential: boolean;
}

export const QUANT_PRESETS = {
  w8a8: { wbits: 8, abits: 8 },
  w6a6: { wbits: 6, abits: 6 },
  w4a4: { wbits: 4, abits: 4 },
} as const;
export type QuantPreset = keyof typeof QUANT_PRESETS;

export function defaultAlphas(n = 24, lo = 0.3): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((1 - lo) * i) / (n - 1));
}

export function quantConfig(preset: QuantPreset | { wbits: number; abits: number }, over: Partial<QuantConfig> = {}): QuantConfig {
  const bits = typeof preset === "string" ? QUANT_PRESETS[preset] : preset;
  const method = over.method ?? "minmax";
  return {
    wbits: bits.wbits,
    abits: bits.abits,
    edgeBits: 8,
    method,
    metric: "mse",
    twinUniform: method === "search",
    percentile: 99.99,
    searchImages: 8,
    alphas: defaultAlphas(),
    sequential: true,
    ...over,
  };
}

export interface QuantWeightLayer {
  name: string;
  kind: "conv" | "linear";
  /** Per-output-channel codes, axis 0. */
  weight: QTensor;
  /** dequantize(weight): what the simulated mode multiplies with. */
  weightFake: Tensor;
  bias: Tensor | null;
  input: ActQuantizer;
  conv: Conv2dOptions | null;
}

export interface QuantMatmulLayer {
  name: string;
  a: ActQuantizer;
  b: ActQuantizer;
}

interface Recorded {
  weight: Map<string, { x: Tensor; w: Tensor; b: Tensor | null; conv: Conv2dOptions | null }>;
  matmul: Map<string, { a: Tensor; b: Tensor; opts: MatmulOptions }>;
}

/** Runs the float model once and keeps every quantizable layer's inputs. */
export function recordLayerInputs(model: Classifier, x: Tensor): Recorded {
  const rec: Recorded = { weight: new Map(), matmul: new Map() };
  const recorder: LayerOps = {
    conv2d(name, xi, w, b, opts) {
      rec.weight.set(name, { x: xi, w, b, conv: opts });
      return floatLayers.conv2d(name, xi, w, b, opts);
    },
    linear(name, xi, w, b) {
      rec.weight.set(name, { x: xi, w, b, conv: null });
      return floatLayers.linear(name, xi, w, b);
    },
    matmul(name, a, b, opts) {
      rec.matmul.set(name, { a, b, opts });
      return floatLayers.matmul(name, a, b, opts);
    },
  };
  model.forward(x, { layers: recorder });
  return rec;
}

/** The first `n` entries along dim 0. */
function head(t: Tensor, n: number): Tensor {
  return t.shape[0] <= n ? t : slice(t, [{ end: n }]);
}

function uniformFromRange(min: number, max: number, bits: number): ActQuantizer {
  return { kind: "uniform", params: chooseQParams(min, max, bits, false, false) };
}

function quantizeWeight(
  r: { x: Tensor; w: Tensor; b: Tensor | null; conv: Conv2dOptions | null },
  bits: number,
  cfg: QuantConfig,
): QTensor {
  const w = r.w;
  if (cfg.method !== "search") {
    const { min, max } = perChannelMinMax(w);
    return quantize(w, chooseQParamsPerChannel(min, max, 0, bits, true, true, { narrow: true }));
  }
  const xs = head(r.x, cfg.searchImages);
  const run = (wq: Float32Array) => layerOut(r, xs, new Tensor(w.shape, wq)).data;
  const outShape = layerOut(r, xs, w).shape;
  const res = searchWeightRangePerChannel(w.data, w.shape, 0, run, { shape: outShape, axis: r.conv ? 1 : outShape.length - 1 }, {
    bits,
    signed: true,
    symmetric: true,
    narrow: true,
    metric: cfg.metric,
    alphas: cfg.alphas,
  });
  return quantize(w, res.params);
}

function perChannelMinMax(w: Tensor): { min: Float32Array; max: Float32Array } {
  const C = w.shape[0];
  const per = w.size / C;
  const min = new Float32Array(C);
  const max = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const r = minMax(w.data.subarray(c * per, (c + 1) * per));
    min[c] = r.min;
    max[c] = r.max;
  }
  return { min, max };
}

function layerOut(r: { conv: Conv2dOptions | null; b: Tensor | null }, x: Tensor, w: Tensor): Tensor {
  return r.conv ? conv2d(x, w, r.b, r.conv) : linear(x, w, r.b);
}

function quantizeInput(x: Tensor, bits: number, cfg: QuantConfig, output: ((xq: Float32Array) => Float32Array) | null, twin: "gelu" | "softmax" | null): ActQuantizer {
  if (twin && cfg.twinUniform && output) {
    const start = twin === "softmax" ? TwinUniformQuantizer.softmax(bits, 0) : TwinUniformQuantizer.gelu(bits, 1 / (2 ** (bits - 1) - 1), 0);
    const alphas = cfg.alphas.filter((_, i) => i % 2 === 0);
    return { kind: "twin", twin: start.search(x.data, output, { metric: cfg.metric, alphas, rounds: 1 }).quantizer };
  }
  if (cfg.method === "percentile") {
    const r = percentileRange(x.data, cfg.percentile, "tails");
    return uniformFromRange(r.min, r.max, bits);
  }
  if (cfg.method === "search" && output) {
    const res = searchClippingRange(x.data, output, { bits, signed: false, symmetric: false, metric: cfg.metric, alphas: cfg.alphas });
    return { kind: "uniform", params: res.params };
  }
  const r = minMax(x.data);
  return uniformFromRange(r.min, r.max, bits);
}

export interface QuantizedLayers {
  weights: Map<string, QuantWeightLayer>;
  matmuls: Map<string, QuantMatmulLayer>;
}

/**
 * Calibrates and quantizes every conv / linear / attention matmul of `model` on the normalised images `calib`
 * ([N, 3, H, W]). Progress lines go to `log` (stderr by default in the CLI).
 */
export function calibrateModel(model: Classifier, calib: Tensor, cfg: QuantConfig, log: (msg: string) => void = () => {}): QuantizedLayers {
  const first = model.weightLayers[0];
  const last = model.headName;
  const weights = new Map<string, QuantWeightLayer>();
  const matmuls = new Map<string, QuantMatmulLayer>();
  let done = 0;
  const total = model.weightLayers.length + model.matmulLayers.length;
  const weightLayer = (name: string, r: { x: Tensor; w: Tensor; b: Tensor | null; conv: Conv2dOptions | null }): QuantWeightLayer => {
    const edge = (name === first || name === last) && cfg.edgeBits !== null;
    const wbits = edge ? (cfg.edgeBits as number) : cfg.wbits;
    const abits = edge ? (cfg.edgeBits as number) : cfg.abits;
    const wq = quantizeWeight(r, wbits, cfg);
    const weightFake = dequantize(wq);
    const xs = head(r.x, cfg.searchImages);
    const output = cfg.method === "search" || cfg.twinUniform ? (xq: Float32Array) => layerOut(r, new Tensor(xs.shape, xq), weightFake).data : null;
    const isGeluInput = name.endsWith(".mlp.fc2");
    // NOTE: uniform ranges are taken from all calibration images unless searching; a search scores candidates
    // on `searchImages` images.
    const input = quantizeInput(cfg.method === "search" || (cfg.twinUniform && isGeluInput) ? xs : r.x, abits, cfg, output, isGeluInput ? "gelu" : null);
    const l: QuantWeightLayer = { name, kind: r.conv ? "conv" : "linear", weight: wq, weightFake, bias: r.b, input, conv: r.conv };
    weights.set(name, l);
    log(`calibrated ${name} (${++done}/${total})`);
    return l;
  };
  const matmulLayer = (name: string, r: { a: Tensor; b: Tensor; opts: MatmulOptions }): QuantMatmulLayer => {
    const aS = head(r.a, cfg.searchImages);
    const bS = head(r.b, cfg.searchImages);
    const isSoftmax = name.endsWith(".av");
    const outA = (aq: Float32Array) => matmul(new Tensor(aS.shape, aq), bS, r.opts).data;
    const a = quantizeInput(cfg.method === "search" || (cfg.twinUniform && isSoftmax) ? aS : r.a, cfg.abits, cfg, outA, isSoftmax ? "softmax" : null);
    const aFake = fakeQuantAct(a, aS);
    const outB = (bq: Float32Array) => matmul(aFake, new Tensor(bS.shape, bq), r.opts).data;
    const b = quantizeInput(cfg.method === "search" ? bS : r.b, cfg.abits, cfg, outB, null);
    const m: QuantMatmulLayer = { name, a, b };
    matmuls.set(name, m);
    log(`calibrated ${name} (${++done}/${total})`);
    return m;
  };
  // One forward pass; each layer is calibrated when it runs. Sequential: the layer then returns its quantized
  // output, so later layers calibrate on what the quantized prefix produces (as PyTorch's fake-quant modules do
  // when observers and fake-quant are both on during calibration); parallel: the float output.
  const calibrating: LayerOps = {
    conv2d(name, x, w, b, opts) {
      const l = weightLayer(name, { x, w, b, conv: opts });
      return cfg.sequential ? conv2d(fakeQuantAct(l.input, x), l.weightFake, b, opts) : conv2d(x, w, b, opts);
    },
    linear(name, x, w, b) {
      const l = weightLayer(name, { x, w, b, conv: null });
      return cfg.sequential ? linear(fakeQuantAct(l.input, x), l.weightFake, b) : linear(x, w, b);
    },
    matmul(name, a, b, opts) {
      const m = matmulLayer(name, { a, b, opts });
      return cfg.sequential ? matmul(fakeQuantAct(m.a, a), fakeQuantAct(m.b, b), opts) : matmul(a, b, opts);
    },
  };
  model.forward(calib, { layers: calibrating });
  for (const n of model.weightLayers) if (!weights.has(n)) throw new Error(`calibrateModel: layer ${n} did not run in the forward pass`);
  for (const n of model.matmulLayers) if (!matmuls.has(n)) throw new Error(`calibrateModel: matmul ${n} did not run in the forward pass`);
  return { weights, matmuls };
}

export type { QParams };
