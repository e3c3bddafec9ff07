// ZOA's `mirror` variant: mirrorImages against a naive index loop, and one step's prediction against an independent
// computation: with zero perturbation steps (c = cAlpha = 0) and no activation shift the perturbed pass is the model
// on the mirrored batch, so the first prediction must be (model(x) + model(mirror(x))) / 2, in two passes.
import { describe, expect, it } from "vitest";
import { normalizeBatch } from "../../src/data/cifar.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { sourceStatistics } from "../../src/zoa/features.js";
import { mirrorImages } from "../../src/zoa/mirror.js";
import { zoaVariantConfig } from "../../src/zoa/variants.js";
import { Zoa, zoaSpecConfig } from "../../src/zoa/zoa.js";
import { randomImages, tinyResNet, tinyViT } from "../helpers/tiny_models.js";

describe("mirrorImages", () => {
  it("reverses the last axis of [N, C, H, W] and is its own inverse", () => {
    const [N, C, H, W] = [2, 3, 4, 5];
    const x = new Tensor([N, C, H, W], Float32Array.from({ length: N * C * H * W }, (_, i) => i * 0.5 - 7));
    const y = mirrorImages(x);
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) expect(y.data[((n * C + c) * H + h) * W + w]).toBe(x.data[((n * C + c) * H + h) * W + (W - 1 - w)]);
    expect(Array.from(mirrorImages(y).data)).toEqual(Array.from(x.data));
    expect(() => mirrorImages(new Tensor([2, 3], new Float32Array(6)))).toThrow(/\[N, C, H, W\]/);
  });
});

describe.each([
  ["resnet", tinyResNet],
  ["vit", tinyViT],
] as const)("ZOA mirror variant on the tiny %s", (_kind, make) => {
  const model = make();
  const predictor = { model };
  const source = sourceStatistics(predictor, randomImages(64, 7), 64);
  const x = normalizeBatch(randomImages(64, 31, 20), 0, 64, model.mean, model.std);

  it("predicts the mean of the two views' logits, with two forward passes", () => {
    const spec = zoaSpecConfig(model, null, { seed: 3 });
    const cfg = { ...zoaVariantConfig("mirror", spec, model.kind), c: 0, cAlpha: 0, activationShift: false };
    expect(cfg.mirror).toBe(true);
    const zoa = new Zoa(predictor, source, cfg);
    const got = zoa.forward(x).data;
    expect(zoa.stats().forwardPasses).toBe(2);
    const bnStats = model.kind === "vit" ? "running" : "batch";
    const a = model.forward(x, { bnStats }).logits.data;
    const b = model.forward(mirrorImages(x), { bnStats }).logits.data;
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - (a[i] + b[i]) / 2));
    expect(maxDiff).toBeLessThan(1e-6); // the same ops; overrides equal to the stored affines
    let differs = 0;
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-3) differs++;
    expect(differs).toBeGreaterThan(0); // the two views do differ
  });
});
