// Loading a classifier from a safetensors file on disk (Node). Building it from a parsed file (architecture from
// the metadata or the tensor names) is in from_safetensors.ts, which has no Node imports and is re-exported here.
import { readSafetensors } from "../io/safetensors.js";
import { modelFromSafetensors } from "./from_safetensors.js";
import type { Classifier } from "./model.js";

export * from "./from_safetensors.js";

/**
 * Reads a checkpoint: timm ViT, CIFAR ResNet or torchvision ResNet.
 * @example const model = loadModel("resnet20-cifar10.safetensors");
 */
export function loadModel(file: string): Classifier {
  return modelFromSafetensors(readSafetensors(file));
}
