// The pretrained checkpoints in ../shared/models against PyTorch's reference predictions and logits
// (../shared/reference). Skips with a printed reason when ../shared is absent. The full 10,000-image
// check is `zoa eval ... --preds` (see README); here the first 256 images keep the suite fast.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { normalizeBatch, readCifar } from "../../src/data/cifar.js";
import { loadModel } from "../../src/models/load.js";
import { argmax } from "../../src/tensor/index.js";
import { expectClose, maxAbsDiff } from "../helpers/close.js";
import { sharedPath } from "../helpers/shared.js";
import { imageCount } from "../helpers/slow_backend.js";

// 64 on the reference and gpujs backends (their whole-suite runs, test/helpers/slow_backend.ts).
const N_IMAGES = imageCount("shared_models argmax check", 256, 64);

function f32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

describe.each([
  ["resnet20", 0, "cifar_resnet"],
  // 3 of 10,000 test images have a top-2 margin under 1e-3 in PyTorch: allow 1 flip in 256.
  ["vit-tiny", 1, "vit"],
] as const)("%s-cifar10 vs PyTorch reference", (name, allowedFlips, kind) => {
  it(`logits of the first 64 images within 1e-4, argmax of the first ${N_IMAGES} equal`, () => {
    const modelFile = sharedPath(`models/${name}-cifar10.safetensors`);
    const dataFile = sharedPath("data/cifar10/test_batch.bin");
    const logitsFile = sharedPath(`reference/${name}-fp32-logits-first64.f32`);
    const predFile = sharedPath(`reference/${name}-fp32-pred.u8`);
    if (!modelFile || !dataFile || !logitsFile || !predFile) return;
    const model = loadModel(modelFile);
    expect(model.kind).toBe(kind);
    const set = readCifar(dataFile, N_IMAGES);
    const refPred = readFileSync(predFile);
    let flips = 0;
    for (let s = 0; s < N_IMAGES; s += 64) {
      const { logits } = model.forward(normalizeBatch(set, s, 64, model.mean, model.std));
      if (s === 0) {
        const ref = f32(logitsFile);
        console.log(`${name}: max |logit - PyTorch| over 64 images = ${maxAbsDiff(logits.data, ref).toExponential(2)}`);
        expectClose(logits.data, ref, { atol: 1e-4, rtol: 0 }, `${name} logits`);
      }
      const p = argmax(logits, 1);
      for (let i = 0; i < 64; i++) if (p[i] !== refPred[s + i]) flips++;
    }
    expect(flips).toBeLessThanOrEqual(allowedFlips);
  });
});
