// Quantized models as safetensors tensors and metadata (no file access, browser-safe; files: qio.ts):
//   <layer>.weight         I8  [..]  per-output-channel weight codes (symmetric, zero point 0, axis 0)
//   <layer>.weight_scale   F32 [K]   their scales
//   every other float parameter (norms, biases, embeddings) as F32 under its own name;
//   __metadata__: the float model's metadata plus zoa_quant (config JSON) and zoa_quant_acts (every activation
//   quantizer: uniform scale / zero point / bits, or twin-uniform kind / bits / delta2 / m).
import { type SafetensorsFile, type WritableTensor, parseSafetensors, toFloat32, toInt8 } from "../io/safetensors_format.js";
import { modelFromParams } from "../models/from_safetensors.js";
import type { Classifier } from "../models/model.js";
import { ModelError, ParamMap } from "../models/params.js";
import { Tensor } from "../tensor/tensor.js";
import type { ActQuantizer } from "./act.js";
import type { QuantConfig, QuantMatmulLayer, QuantWeightLayer } from "./ptq.js";
import { QuantizedModel } from "./qmodel.js";
import { createQTensor, dequantize, type QParams } from "./qtensor.js";
import { TwinUniformQuantizer } from "./twin_uniform.js";

type ActJson =
  | { kind: "uniform"; bits: number; signed: boolean; scale: number; zeroPoint: number }
  | { kind: "twin"; twin: "softmax" | "gelu"; bits: number; delta2: number; m: number };

function actToJson(q: ActQuantizer): ActJson {
  if (q.kind === "twin") return { kind: "twin", twin: q.twin.kind, bits: q.twin.bits, delta2: q.twin.delta2, m: q.twin.m };
  return { kind: "uniform", bits: q.params.bits, signed: q.params.signed, scale: q.params.scale[0], zeroPoint: q.params.zeroPoint[0] };
}

function actFromJson(j: ActJson, where: string): ActQuantizer {
  if (j.kind === "twin") return { kind: "twin", twin: new TwinUniformQuantizer(j.twin, j.bits, j.delta2, j.m) };
  if (j.kind !== "uniform" || !Number.isFinite(j.scale) || !(j.scale > 0)) throw new ModelError(`${where}: bad activation quantizer ${JSON.stringify(j)}`);
  const params: QParams = { bits: j.bits, signed: j.signed, narrow: false, scale: Float32Array.of(j.scale), zeroPoint: Int32Array.of(j.zeroPoint), axis: null };
  return { kind: "uniform", params };
}

/** The tensors and metadata of `q` (the float model's metadata `baseMetadata` plus zoa_quant / zoa_quant_acts). */
export function quantizedModelTensors(q: QuantizedModel, baseMetadata: Readonly<Record<string, string>>): { tensors: Record<string, WritableTensor>; metadata: Record<string, string> } {
  const tensors: Record<string, WritableTensor> = {};
  const quantized = new Set<string>();
  const acts: Record<string, ActJson | { a: ActJson; b: ActJson }> = {};
  for (const l of q.weights.values()) {
    if (!(l.weight.data instanceof Int8Array)) throw new ModelError(`saveQuantizedModel: ${l.name} weights must be signed codes`);
    tensors[`${l.name}.weight`] = { dtype: "I8", shape: l.weight.shape, data: l.weight.data };
    tensors[`${l.name}.weight_scale`] = { dtype: "F32", shape: [l.weight.scale.length], data: l.weight.scale };
    quantized.add(`${l.name}.weight`);
    acts[l.name] = actToJson(l.input);
  }
  for (const m of q.matmuls.values()) acts[m.name] = { a: actToJson(m.a), b: actToJson(m.b) };
  for (const [name, t] of q.model.params.tensors) if (!quantized.has(name)) tensors[name] = { dtype: "F32", shape: t.shape, data: t.data };
  const weightBits = Object.fromEntries([...q.weights.values()].map((l) => [l.name, l.weight.bits]));
  return {
    tensors,
    metadata: { ...baseMetadata, zoa_quant: JSON.stringify({ ...q.config, weightBits }), zoa_quant_acts: JSON.stringify(acts) },
  };
}

export function isQuantizedFile(f: SafetensorsFile): boolean {
  return f.metadata.zoa_quant !== undefined;
}

/** The QuantizedModel of a parsed file written by saveQuantizedModel. */
export function quantizedModelFromFile(f: SafetensorsFile): QuantizedModel {
  if (!isQuantizedFile(f)) throw new ModelError(`${f.file}: not a quantized model (no __metadata__.zoa_quant)`);
  let cfg: QuantConfig & { weightBits: Record<string, number> };
  let acts: Record<string, ActJson | { a: ActJson; b: ActJson }>;
  try {
    cfg = JSON.parse(f.metadata.zoa_quant);
    acts = JSON.parse(f.metadata.zoa_quant_acts ?? "{}");
  } catch (e) {
    throw new ModelError(`${f.file}: __metadata__.zoa_quant is not valid JSON (${(e as Error).message})`);
  }
  const params = new Map<string, Tensor>();
  const codes = new Map<string, { data: Int8Array; shape: readonly number[]; scale: Float32Array }>();
  for (const [name, e] of f.tensors) {
    if (name.endsWith(".weight_scale")) continue;
    if (e.dtype === "I8") {
      const scaleEntry = f.get(name.replace(/\.weight$/, ".weight_scale"));
      const scale = toFloat32(scaleEntry);
      codes.set(name.replace(/\.weight$/, ""), { data: toInt8(e), shape: e.shape, scale });
    } else params.set(name, new Tensor(e.shape, toFloat32(e)));
  }
  const weights = new Map<string, QuantWeightLayer>();
  for (const [layer, c] of codes) {
    const bits = cfg.weightBits[layer] ?? cfg.wbits;
    const qp: QParams = { bits, signed: true, narrow: true, scale: c.scale, zeroPoint: new Int32Array(c.scale.length), axis: 0 };
    const weight = createQTensor(c.shape, c.data, qp);
    const weightFake = dequantize(weight);
    params.set(`${layer}.weight`, weightFake);
    const a = acts[layer];
    if (!a || "a" in a) throw new ModelError(`${f.file}: no activation quantizer for layer ${layer}`);
    weights.set(layer, {
      name: layer,
      kind: c.shape.length === 4 ? "conv" : "linear",
      weight,
      weightFake,
      bias: params.get(`${layer}.bias`) ?? null,
      input: actFromJson(a, `${f.file}: ${layer}`),
      conv: null,
    });
  }
  const model: Classifier = modelFromParams(f, new ParamMap(params, f.file));
  const matmuls = new Map<string, QuantMatmulLayer>();
  for (const name of model.matmulLayers) {
    const a = acts[name];
    if (!a || !("a" in a)) throw new ModelError(`${f.file}: no quantizers for matmul ${name}`);
    matmuls.set(name, { name, a: actFromJson(a.a, `${f.file}: ${name}`), b: actFromJson(a.b, `${f.file}: ${name}`) });
  }
  return new QuantizedModel(model, cfg, { weights, matmuls });
}

/**
 * The QuantizedModel held in safetensors bytes written by saveQuantizedModel (`zoa quantize --out`); `file` names
 * the source in errors.
 * @example const q = quantizedModelFromBytes(new Uint8Array(await file.arrayBuffer()), file.name);
 */
export function quantizedModelFromBytes(bytes: Uint8Array, file = "<memory>"): QuantizedModel {
  return quantizedModelFromFile(parseSafetensors(bytes, file));
}
