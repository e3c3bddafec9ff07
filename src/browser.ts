// zoa-ts for web pages (dist/browser/zoa.js): the API of index.ts without file-system access, plus the corruptions,
// the procedural dataset and the adaptation methods. Files come in and go out as bytes (fetch, File.arrayBuffer(),
// Blob downloads). Nothing reachable from this entry may import a Node module: the browser build fails if one does.
export * from "./tensor/index.js";
export * from "./io/safetensors_format.js";
export { parseCifar, encodeCifar, normalizeBatch, DataFormatError, type ImageSet } from "./data/cifar_format.js";
export { modelFromBytes, modelFromSafetensors, modelFromParams, paramsFromSafetensors } from "./models/from_safetensors.js";
export type { Classifier, ForwardOptions, ForwardResult, Features, NormAffine, NormLayerInfo, ModelKind } from "./models/model.js";
export { type LayerOps, floatLayers } from "./models/layers.js";
export { ParamMap, ModelError } from "./models/params.js";
export { VisionTransformer, VIT_PRESETS, vitParamSpec, type ViTConfig } from "./models/vit.js";
export { ResNet, cifarResNetConfig, torchvisionResNetConfig, resnetParamSpec, type ResNetConfig } from "./models/resnet.js";
export { calibrateModel, quantConfig, QUANT_PRESETS, type QuantConfig, type QuantPreset, type CalibMethod } from "./quant/ptq.js";
export { QuantizedModel, type ExecMode } from "./quant/qmodel.js";
export { isQuantizedFile, quantizedModelFromBytes, quantizedModelFromFile, quantizedModelTensors } from "./quant/qio_format.js";
export * from "./quant/qtensor.js";
export * from "./quant/fixedpoint.js";
export { CORRUPTIONS, corrupt, corruptSet, imageRng, isCorruptionName, type CorruptionName, type CorruptOptions } from "./data/corruptions/corrupt.js";
export { drawProcedural, proceduralSet, PROCEDURAL_CLASSES, type ProceduralOptions } from "./data/procedural.js";
export type { StreamBatch } from "./data/stream.js";
export type { Adapter, AdapterState, AdapterStats, Predictor } from "./zoa/adapter.js";
export { NoAdapt, NormAdapt } from "./zoa/baselines.js";
export { sourceStatistics, type SourceStats } from "./zoa/features.js";
export { METHOD_NAMES, availableMethods, createAdapter, type MethodContext, type MethodName } from "./zoa/methods.js";
export { runStream, type MethodResult, type RunReport, type RunOptions } from "./zoa/runner.js";
export { ZOA_VARIANTS, DEFAULT_ZOA_VARIANT, type ZoaVariantName } from "./zoa/variants.js";
export { Zoa, zoaSpecConfig, type ZoaConfig } from "./zoa/zoa.js";
export { KnowledgeBank, type Slot } from "./zoa/bank.js";
export { adapterStateFromBytes, adapterStateToBytes, stateFromFile } from "./zoa/zoa_state.js";
