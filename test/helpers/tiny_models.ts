// The tiny deterministic-weight models of the golden fixtures, for tests that need a real model quickly.
import type { ImageSet } from "../../src/data/cifar.js";
import { ResNet, cifarResNetConfig } from "../../src/models/resnet.js";
import { VisionTransformer } from "../../src/models/vit.js";
import { Rng } from "../../src/tensor/index.js";
import { detParams } from "./det_params.js";
import { type ModelGoldenBase, loadGolden } from "./golden.js";

export { detParams };

/** CIFAR ResNet depth 8 (one block per stage), 16x16 input, 10 classes. */
export function tinyResNet(): ResNet {
  return new ResNet(cifarResNetConfig(8, 10, 16), detParams(loadGolden<ModelGoldenBase>("cifar_resnet_tiny")));
}

/** ViT: 16x16 input, patch 4, dim 32, depth 3, 2 heads, 10 classes. */
export function tinyViT(): VisionTransformer {
  return new VisionTransformer(
    { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 32, depth: 3, numHeads: 2, mlpRatio: 4, numClasses: 10, eps: 1e-6 },
    detParams(loadGolden<ModelGoldenBase>("vit_tiny")),
  );
}

/** n random 3x16x16 uint8 images; `tint` shifts every pixel (a crude domain shift). */
export function randomImages(n: number, seed: number, tint = 0, size = 16): ImageSet {
  const rng = new Rng(seed);
  const images = new Uint8Array(n * 3 * size * size);
  for (let i = 0; i < images.length; i++) images[i] = Math.max(0, Math.min(255, Math.floor(rng.uniform() * 200) + tint));
  const labels = Uint8Array.from({ length: n }, () => rng.int(0, 10));
  return { images, labels, count: n, channels: 3, height: size, width: size };
}
