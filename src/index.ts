// zoa-ts public API.
export * from "./tensor/index.js";
export * from "./io/safetensors.js";
export { readCifar, parseCifar, encodeCifar, normalizeBatch, DataFormatError, type ImageSet } from "./data/cifar.js";
export { loadModel, modelFromSafetensors, modelFromParams, paramsFromSafetensors } from "./models/load.js";
export type { Classifier, ForwardOptions, ForwardResult, Features, NormAffine, NormLayerInfo, ModelKind } from "./models/model.js";
export { type LayerOps, floatLayers } from "./models/layers.js";
export { ParamMap, ModelError } from "./models/params.js";
export { VisionTransformer, VIT_PRESETS, vitParamSpec, type ViTConfig } from "./models/vit.js";
export { ResNet, cifarResNetConfig, torchvisionResNetConfig, resnetParamSpec, type ResNetConfig } from "./models/resnet.js";
export { calibrateModel, quantConfig, QUANT_PRESETS, type QuantConfig, type QuantPreset, type CalibMethod } from "./quant/ptq.js";
export { QuantizedModel, type ExecMode } from "./quant/qmodel.js";
export { saveQuantizedModel, loadQuantizedModel } from "./quant/qio.js";
export * from "./quant/qtensor.js";
export * from "./quant/fixedpoint.js";
