// The trainable ResNet / ViT against the inference models of src/models on the same tensors: eval mode (running
// BatchNorm statistics) and training mode (batch statistics, running statistics updated with momentum 0.1),
// init rules, and a checkpoint written by saveCheckpoint loading back through loadModel.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSafetensors } from "../../src/io/safetensors.js";
import { loadModel } from "../../src/models/load.js";
import { ResNet, cifarResNetConfig } from "../../src/models/resnet.js";
import { VisionTransformer, type ViTConfig } from "../../src/models/vit.js";
import { Rng } from "../../src/tensor/rng.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { backward, constant } from "../../src/train/autograd.js";
import { crossEntropy } from "../../src/train/grad_softmax.js";
import { saveCheckpoint, toClassifier } from "../../src/train/checkpoint.js";
import { type TrainModel, decays, forward, initModel, paramSpec, toParamMap } from "../../src/train/models.js";
import { expectClose } from "../helpers/close.js";
import { randTensor } from "./gradcheck.js";

const SAME = { atol: 1e-5, rtol: 1e-5 };
const TINY_VIT: ViTConfig = { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 16, depth: 2, numHeads: 2, mlpRatio: 2, numClasses: 10, eps: 1e-6 };
const dir = mkdtempSync(join(tmpdir(), "zoa-train-models-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Moves every tensor off its init value (running variances kept positive), so equality tests see real values. */
function perturb(model: TrainModel, rng: Rng): void {
  for (const v of model.params.values()) v.value.data.forEach((x, i, a) => (a[i] = x + 0.1 * rng.normal()));
  for (const [name, t] of model.buffers) t.data.forEach((x, i, a) => (a[i] = name.endsWith("var") ? rng.uniformIn(0.5, 2) : 0.3 * rng.normal()));
}

describe("trainable CIFAR ResNet", () => {
  const arch = { kind: "cifar_resnet" as const, config: cifarResNetConfig(8, 10, 16) };

  it("eval mode equals ResNet.forward on the same tensors", () => {
    const model = initModel(arch, new Rng(1));
    perturb(model, new Rng(2));
    const x = randTensor(new Rng(3), [3, 3, 16, 16]);
    const ref = new ResNet(arch.config, toParamMap(model)).forward(x).logits;
    expectClose(forward(model, constant(x), false).value.data, ref.data, SAME, "logits");
  });

  it("training mode equals ResNet.forward with batch statistics, and updates the running statistics", () => {
    const model = initModel(arch, new Rng(1));
    perturb(model, new Rng(2));
    const x = randTensor(new Rng(4), [4, 3, 16, 16]);
    const ref = new ResNet(arch.config, toParamMap(model)).forward(x, { bnStats: "batch" }).logits;
    const before = model.buffers.get("layer2.0.bn1.running_mean")!.data.slice();
    expectClose(forward(model, constant(x), true).value.data, ref.data, SAME, "logits");
    expect(model.buffers.get("layer2.0.bn1.running_mean")!.data).not.toEqual(before);
  });

  it("initialises BatchNorm to identity, running stats to (0, 1), convs Kaiming-normal", () => {
    const model = initModel(arch, new Rng(5));
    expect([...model.params.keys(), ...model.buffers.keys()].sort()).toEqual(paramSpec(arch).map(([n]) => n).sort());
    expect(model.params.get("bn1.weight")!.value.data.every((v) => v === 1)).toBe(true);
    expect(model.buffers.get("layer1.0.bn2.running_var")!.data.every((v) => v === 1)).toBe(true);
    const w = model.params.get("layer3.0.conv2.weight")!.value; // fan_in 64*9: std sqrt(2/576) = 0.0589
    const std = Math.sqrt(w.data.reduce((s, v) => s + v * v, 0) / w.size);
    expect(std).toBeGreaterThan(0.055);
    expect(std).toBeLessThan(0.063);
    expect(decays("layer1.0.conv1.weight", [16, 16, 3, 3])).toBe(true);
    expect(decays("bn1.weight", [16])).toBe(false);
  });
});

describe("trainable ViT", () => {
  const arch = { kind: "vit" as const, config: TINY_VIT };

  it("equals VisionTransformer.forward on the same tensors", () => {
    const model = initModel(arch, new Rng(6));
    perturb(model, new Rng(7));
    const x = randTensor(new Rng(8), [2, 3, 16, 16]);
    const ref = new VisionTransformer(TINY_VIT, toParamMap(model)).forward(x).logits;
    expectClose(forward(model, constant(x), true).value.data, ref.data, SAME, "logits");
  });

  it("initialises linears, pos_embed and cls_token with std 0.02 (cut at 2 std), LayerNorms to identity", () => {
    const model = initModel(arch, new Rng(9));
    const w = model.params.get("blocks.0.mlp.fc1.weight")!.value;
    expect(Math.max(...w.data.map(Math.abs))).toBeLessThanOrEqual(0.04 + 1e-7);
    expect(model.params.get("blocks.1.norm2.weight")!.value.data.every((v) => v === 1)).toBe(true);
    expect(model.params.get("norm.bias")!.value.data.every((v) => v === 0)).toBe(true);
    expect(decays("pos_embed", [1, 17, 16])).toBe(false);
  });
});

describe("checkpoints", () => {
  const cases: [string, TrainModel, number][] = [
    ["resnet", initModel({ kind: "cifar_resnet", config: cifarResNetConfig(8, 10, 32) }, new Rng(10)), 32],
    ["vit", initModel({ kind: "vit", config: TINY_VIT }, new Rng(11)), 16],
  ];
  for (const [name, model, size] of cases) {
    it(`${name}: saveCheckpoint -> loadModel reproduces the logits`, () => {
      perturb(model, new Rng(12));
      const norm = { mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.3] };
      const file = join(dir, `${name}.safetensors`);
      saveCheckpoint(file, model, norm, `demo_${name}`);
      const loaded = loadModel(file);
      expect(loaded.mean).toEqual(norm.mean);
      expect(loaded.std).toEqual(norm.std);
      expect(loaded.name).toBe(`demo_${name}`);
      expect(readSafetensors(file).metadata.num_classes).toBe("10");
      const x: Tensor = randTensor(new Rng(13), [2, 3, size, size]);
      const want = forward(model, constant(x), false).value;
      expectClose(loaded.forward(x).logits.data, want.data, SAME, "loaded logits");
      expectClose(toClassifier(model, norm, name).forward(x).logits.data, want.data, SAME, "live classifier logits");
    });
  }
});

describe("whole-model gradients", () => {
  // Float32 central differences on single weights (h = 1e-3): rounding ~1e-7 * loss / h ~ 2e-4 and ReLU kinks
  // crossed within +-h, hence the loose tolerance; the per-op float64 checks are the tight ones.
  const TOL = { atol: 2e-3, rtol: 5e-2 };
  const cases: [string, TrainModel, number][] = [
    ["resnet (training mode)", initModel({ kind: "cifar_resnet", config: cifarResNetConfig(8, 10, 8) }, new Rng(20)), 8],
    ["vit", initModel({ kind: "vit", config: { ...TINY_VIT, imgSize: 8 } }, new Rng(21)), 8],
  ];
  for (const [name, model, size] of cases) {
    it(`${name}: backward matches finite differences of the loss on sampled weights`, () => {
      const rng = new Rng(22);
      const x = constant(randTensor(rng, [4, 3, size, size]));
      const labels = [1, 5, 7, 3];
      // Running statistics change on every training-mode forward; they are not read in training mode.
      const loss = () => crossEntropy(forward(model, x, true), labels).value.data[0];
      backward(crossEntropy(forward(model, x, true), labels));
      const names = [...model.params.keys()];
      for (let k = 0; k < 12; k++) {
        const pname = names[rng.int(0, names.length)];
        const v = model.params.get(pname)!;
        const i = rng.int(0, v.value.size);
        const orig = v.value.data[i];
        const h = 1e-3;
        v.value.data[i] = orig + h;
        const up = loss();
        v.value.data[i] = orig - h;
        const down = loss();
        v.value.data[i] = orig;
        expectClose([v.grad!.data[i]], [(up - down) / (2 * h)], TOL, `${name}: d loss / d ${pname}[${i}]`);
      }
    });
  }
});
