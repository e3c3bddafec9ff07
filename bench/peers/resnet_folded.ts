// A CIFAR ResNet (BasicBlock, option-A shortcuts) with every BatchNorm folded into the conv before it, in
// inference mode (running statistics), as the peers' converters (tf.js converter, ONNX exporters + onnxruntime's
// optimiser) deploy it. The engine itself runs BN unfolded; the peers get this network, so their logits match
// the engine's fp32 logits up to float rounding.
//   BN(conv(x; w)) = conv(x; w * s) + (beta - mean * s),  s[k] = gamma[k] / sqrt(var[k] + eps)
import { BN_EPS } from "../../src/models/resnet_blocks.js";
import { ResNet } from "../../src/models/resnet.js";
import type { Classifier } from "../../src/models/model.js";

export interface FoldedConv {
  /** [K, C, k, k] (PyTorch OIHW). */
  weight: Float32Array;
  /** [K]. */
  bias: Float32Array;
  K: number;
  C: number;
  k: number;
  stride: number;
  pad: number;
}

export interface FoldedBlock {
  conv1: FoldedConv; // then ReLU
  conv2: FoldedConv; // then + shortcut, ReLU
  /** Option A: x[:, :, ::stride, ::stride] zero-padded with `before` / `after` channels; identity when stride 1 and no padding. */
  shortcut: { stride: number; before: number; after: number };
}

export interface FoldedResNet {
  stem: FoldedConv; // then ReLU
  blocks: FoldedBlock[];
  /** Head after global average pooling: [classes, D] and [classes]. */
  fcWeight: Float32Array;
  fcBias: Float32Array;
  classes: number;
  features: number;
  imageSize: number;
}

function foldConv(model: ResNet, conv: string, bn: string, stride: number, pad: number): FoldedConv {
  const p = model.params;
  const w = p.get(`${conv}.weight`);
  const [K, C, k] = w.shape;
  const gamma = p.get(`${bn}.weight`).data;
  const beta = p.get(`${bn}.bias`).data;
  const mean = p.get(`${bn}.running_mean`).data;
  const variance = p.get(`${bn}.running_var`).data;
  const weight = new Float32Array(w.size);
  const bias = new Float32Array(K);
  const per = C * k * k;
  for (let o = 0; o < K; o++) {
    const s = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    for (let i = 0; i < per; i++) weight[o * per + i] = w.data[o * per + i] * s;
    bias[o] = beta[o] - mean[o] * s;
  }
  return { weight, bias, K, C, k, stride, pad };
}

/** Folds a CIFAR ResNet (basic blocks, option A); throws a RangeError naming the model for anything else. */
export function foldCifarResNet(model: Classifier): FoldedResNet {
  if (!(model instanceof ResNet) || model.config.variant !== "cifar" || model.config.block !== "basic") {
    throw new RangeError(`foldCifarResNet: ${model.name} is not a CIFAR ResNet with basic blocks`);
  }
  const blocks: FoldedBlock[] = model.blocks.flat().map((b) => {
    if (b.shortcut === "conv") throw new RangeError(`foldCifarResNet: ${b.name} has a conv shortcut`);
    const extra = b.planes - b.inPlanes;
    return {
      conv1: foldConv(model, `${b.name}.conv1`, `${b.name}.bn1`, b.stride, 1),
      conv2: foldConv(model, `${b.name}.conv2`, `${b.name}.bn2`, 1, 1),
      shortcut: { stride: b.stride, before: Math.floor(extra / 2), after: extra - Math.floor(extra / 2) },
    };
  });
  const fc = model.params.get(`${model.headName}.weight`);
  return {
    stem: foldConv(model, "conv1", "bn1", 1, 1),
    blocks,
    fcWeight: fc.data,
    fcBias: model.params.get(`${model.headName}.bias`).data,
    classes: fc.shape[0],
    features: fc.shape[1],
    imageSize: model.imageSize,
  };
}
