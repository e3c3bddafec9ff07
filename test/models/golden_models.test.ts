// Whole models against PyTorch (test/golden/*.json from tools/reference/make_golden.py). Weights and inputs
// are regenerated from the deterministic hash in test/helpers/detweights.ts, so large models need no
// committed weights. Tolerances are absolute on logits and state the max error seen.
import { describe, expect, it } from "vitest";
import { ParamMap } from "../../src/models/params.js";
import { ResNet, cifarResNetConfig, torchvisionResNetConfig } from "../../src/models/resnet.js";
import { VisionTransformer, type ViTConfig } from "../../src/models/vit.js";
import { Tensor } from "../../src/tensor/index.js";
import { expectClose, maxAbsDiff } from "../helpers/close.js";
import { detInput } from "../helpers/detweights.js";
import { detParams } from "../helpers/tiny_models.js";
import { TEST_BACKENDS, useBackend } from "../helpers/backends.js";
import {
  type BigModelGolden,
  type CifarResNetTinyGolden,
  type ModelGoldenBase,
  type TvResNetConfig,
  type VitConfig,
  type VitTinyGolden,
  goldenF32,
  loadGolden,
} from "../helpers/golden.js";

function vitConfig(c: VitConfig): ViTConfig {
  return { imgSize: c.imgSize, patchSize: c.patch, inChans: c.inChans, embedDim: c.dim, depth: c.depth, numHeads: c.heads, mlpRatio: c.mlpRatio, numClasses: c.numClasses, eps: c.eps };
}

const input = (g: ModelGoldenBase): Tensor => new Tensor(g.input.shape, detInput(g.input.shape));
const T = (g: { shape: number[]; data: number[] }) => new Tensor(g.shape, goldenF32(g));

// The tiny models on every backend (the ImageNet-shaped ones below on the default backend only: on gpu.js's cpu mode
// ViT-B/16 alone takes over two minutes).
describe.each(TEST_BACKENDS)("backend %s", (backend) => {
  useBackend(backend);

  describe("tiny CIFAR ResNet (depth 8) vs PyTorch", () => {
    const g = loadGolden<CifarResNetTinyGolden>("cifar_resnet_tiny");
    const model = new ResNet(cifarResNetConfig(g.config.depth, g.config.numClasses, g.config.imgSize), detParams(g));
    const x = input(g);

    it("logits and features (running BN statistics)", () => {
      const { logits, features } = model.forward(x);
      expectClose(logits.data, goldenF32(g.logits), { atol: 2e-5, rtol: 1e-5 }, "logits");
      expectClose(features.embed.data, goldenF32(g.features.stem), { atol: 1e-5, rtol: 1e-5 }, "stem");
      const stages = [g.features.stage1, g.features.stage2, g.features.stage3];
      features.stages.forEach((s, i) => {
        expect([...s.shape]).toEqual(stages[i].shape);
        expectClose(s.data, goldenF32(stages[i]), { atol: 2e-5, rtol: 1e-5 }, `stage${i + 1}`);
      });
      expectClose(features.final.data, goldenF32(g.features.stage3), { atol: 2e-5, rtol: 1e-5 }, "final");
    });

    it("logits with batch statistics in every BatchNorm", () => {
      const { logits } = model.forward(x, { bnStats: "batch" });
      expectClose(logits.data, goldenF32(g.logitsBatchStats), { atol: 5e-5, rtol: 1e-5 }, "logitsBatchStats");
    });

    it("lists its norm and weight layers", () => {
      expect(model.normLayers.map((n) => n.name)).toEqual(["bn1", "layer1.0.bn1", "layer1.0.bn2", "layer2.0.bn1", "layer2.0.bn2", "layer3.0.bn1", "layer3.0.bn2"]);
      expect(model.weightLayers[0]).toBe("conv1");
      expect(model.weightLayers.at(-1)).toBe("linear");
    });
  });

  describe("tiny ViT vs PyTorch", () => {
    const g = loadGolden<VitTinyGolden>("vit_tiny");
    const params = detParams(g);
    const model = new VisionTransformer(vitConfig(g.config), params);
    const x = input(g);

    it("logits and features", () => {
      const { logits, features } = model.forward(x);
      expectClose(logits.data, goldenF32(g.logits), { atol: 1e-5, rtol: 1e-5 }, "logits");
      expect([...features.embed.shape]).toEqual(g.features.patchEmbed.shape);
      expectClose(features.embed.data, goldenF32(g.features.patchEmbed), { atol: 1e-5, rtol: 1e-5 }, "patchEmbed");
      expect([...features.stages[0].shape]).toEqual(g.features.cls.shape);
      expectClose(features.stages[0].data, goldenF32(g.features.cls), { atol: 1e-5, rtol: 1e-5 }, "cls");
    });

    it("norm affine overrides replace parameters without copying the model", () => {
      const o = g.override;
      const overrides = new Map(
        o.norms.map((n) => {
          const name = `blocks.${o.block}.${n}`;
          const w = params.get(`${name}.weight`);
          const b = params.get(`${name}.bias`);
          const weight = new Tensor(w.shape, w.data.map((v) => Math.fround(v * o.weightScale)));
          const bias = new Tensor(b.shape, b.data.map((v) => Math.fround(v + Math.fround(o.biasShift))));
          return [name, { weight, bias }] as const;
        }),
      );
      const before = params.get(`blocks.${o.block}.norm1.weight`).data.slice();
      const { logits } = model.forward(x, { normOverrides: overrides });
      expectClose(logits.data, goldenF32(g.logitsOverride), { atol: 1e-5, rtol: 1e-5 }, "logitsOverride");
      expect(params.get(`blocks.${o.block}.norm1.weight`).data).toEqual(before);
    });

    it("prompt tokens after the class token change the logits but not the patch embedding", () => {
      const prompts = new Tensor([3, g.config.dim], new Float32Array(3 * g.config.dim).fill(0.1));
      const plain = model.forward(x);
      const prompted = model.forward(x, { promptTokens: prompts });
      expect(prompted.features.embed.data).toEqual(plain.features.embed.data);
      expect(maxAbsDiff(prompted.logits.data, plain.logits.data)).toBeGreaterThan(1e-4);
    });
  });

  // Big shapes: ~10^8..10^9 multiply-adds in float32 with different summation orders; errors grow with depth.
});

describe("ImageNet-shaped models vs PyTorch (deterministic weights, 2 images)", () => {
  it("torchvision ResNet-18 at 64x64", () => {
    const g = loadGolden<BigModelGolden<TvResNetConfig>>("tv_resnet18");
    const model = new ResNet(torchvisionResNetConfig(g.config.arch, g.config.numClasses, g.config.imgSize), detParams(g));
    const { logits } = model.forward(input(g));
    const err = maxAbsDiff(logits.data, goldenF32(g.logits));
    console.log(`tv_resnet18: max |logit error| ${err.toExponential(2)} (max |logit| ${g.maxAbsLogit.toFixed(2)})`);
    expectClose(logits.data, goldenF32(g.logits), { atol: 1e-4, rtol: 1e-4 }, "logits");
  });

  it("torchvision ResNet-50 at 224x224", () => {
    const g = loadGolden<BigModelGolden<TvResNetConfig>>("tv_resnet50");
    const model = new ResNet(torchvisionResNetConfig(g.config.arch, g.config.numClasses, g.config.imgSize), detParams(g));
    const { logits } = model.forward(input(g));
    const err = maxAbsDiff(logits.data, goldenF32(g.logits));
    console.log(`tv_resnet50: max |logit error| ${err.toExponential(2)} (max |logit| ${g.maxAbsLogit.toFixed(2)})`);
    expectClose(logits.data, goldenF32(g.logits), { atol: 1e-4, rtol: 1e-4 }, "logits");
  });

  it("timm ViT-B/16 at 224x224", () => {
    const g = loadGolden<BigModelGolden<VitConfig>>("vit_b16");
    const model = new VisionTransformer(vitConfig(g.config), detParams(g));
    const { logits } = model.forward(input(g));
    const err = maxAbsDiff(logits.data, goldenF32(g.logits));
    console.log(`vit_b16: max |logit error| ${err.toExponential(2)} (max |logit| ${g.maxAbsLogit.toFixed(2)})`);
    expectClose(logits.data, goldenF32(g.logits), { atol: 1e-4, rtol: 1e-4 }, "logits");
  });
});
