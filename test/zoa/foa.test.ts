// FOA on the tiny deterministic models: exactly 28 forward passes per batch (27 CMA-ES samples + the previous
// best), the prediction is the previous best prompt's pass (predict-then-adapt; activation-shifted from the second
// batch), on a fixed batch the best fitness never increases and drops within a few generations, determinism,
// save -> load -> continue gives the same logits (full and sep CMA-ES), and the input prompt's upsampling.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ImageSet, normalizeBatch } from "../../src/data/cifar.js";
import type { Classifier, ForwardResult } from "../../src/models/model.js";
import { Rng, Tensor } from "../../src/tensor/index.js";
import { sourceStatistics } from "../../src/zoa/features.js";
import { Foa, type FoaConfig, upsampleGrid } from "../../src/zoa/foa.js";
import { readAdapterState, writeAdapterState } from "../../src/zoa/adapter_state_file.js";
import { tinyResNet, tinyViT } from "../helpers/tiny_models.js";


function images(n: number, seed: number, tint = 0): ImageSet {
  const rng = new Rng(seed);
  const data = Uint8Array.from({ length: n * 3 * 16 * 16 }, () => Math.max(0, Math.min(255, Math.floor(rng.uniform() * 200) + tint)));
  return { images: data, labels: new Uint8Array(n), count: n, channels: 3, height: 16, width: 16 };
}

const BATCH = 8;

describe("upsampleGrid (bilinear, align_corners = false)", () => {
  it("matches torch's F.interpolate on [1, 2] -> 4 and keeps constants", () => {
    // torch: F.interpolate([[[[1, 2], [1, 2]]]], size=4, mode="bilinear") rows are [1, 1.25, 1.75, 2].
    const up = upsampleGrid(Float32Array.of(1, 2, 1, 2), 1, 2, 4, 4);
    for (let h = 0; h < 4; h++) expect(Array.from(up.subarray(h * 4, h * 4 + 4))).toEqual([1, 1.25, 1.75, 2]);
    expect(Array.from(upsampleGrid(new Float32Array(3 * 64).fill(0.5), 3, 8, 16, 16)).every((v) => v === 0.5)).toBe(true);
  });

  it("is the identity when the grid already has the image size", () => {
    const g = Float32Array.from({ length: 2 * 25 }, (_, i) => Math.sin(i));
    expect(Array.from(upsampleGrid(g, 2, 5, 5, 5))).toEqual(Array.from(g));
  });
});

describe.each([
  ["resnet", tinyResNet, 3 * 8 * 8],
  ["vit", tinyViT, 3 * 32],
] as const)("FOA on the tiny %s", (_n, make, dims) => {
  const model = make();
  const predictor = { model };
  const source = sourceStatistics(predictor, images(64, 7), 64);
  const data = [0, 1, 2, 3].map((i) => normalizeBatch(images(BATCH, 20 + i, i * 15), 0, BATCH, model.mean, model.std));
  const cfg: Partial<FoaConfig> = { seed: 5 };
  // A smaller population where the test is about state handling, not the pass count (keeps the suite short).
  const small: Partial<FoaConfig> = { seed: 5, popsize: 10 };

  /** The model run by hand with a prompt (ViT tokens; ResNet upsampled grid added, batch BN statistics). */
  function manual(x: Tensor, p: Float32Array): ForwardResult {
    if (model.kind === "vit") return model.forward(x, { promptTokens: new Tensor([3, 32], p) });
    const pattern = upsampleGrid(p, 3, 8, 16, 16);
    const shifted = Float32Array.from(x.data, (v, i) => v + pattern[i % pattern.length]);
    return (model as Classifier).forward(new Tensor(x.shape, shifted), { bnStats: "batch" });
  }

  it("uses exactly 28 forward passes per batch and a full-covariance CMA-ES over the prompt", () => {
    const f = new Foa(predictor, source, cfg);
    expect(f.dim).toBe(dims);
    expect(f.variant).toBe("full");
    data.slice(0, 2).forEach((x, b) => {
      f.forward(x);
      expect(f.stats().forwardPasses).toBe(28 * (b + 1));
      expect(f.stats().batches).toBe(b + 1);
      expect(f.generation).toBe(b + 1);
    });
    expect(f.stats().adapterBytes).toBeGreaterThan(dims * dims * 4);
  });

  it("predicts with the previous best prompt before adapting, activation-shifted from the second batch", () => {
    const f = new Foa(predictor, source, cfg);
    const zero = manual(data[0], new Float32Array(dims));
    expect(Array.from(f.forward(data[0]).data)).toEqual(Array.from(zero.logits.data));
    const prompt = f.bestPrompt.slice();
    const hist = f.hist!.slice();
    const r = manual(data[1], prompt);
    const shifted = Float32Array.from(r.features.final.data, (v, i) => v + (source.finalMean[i % hist.length] - hist[i % hist.length]));
    const want = model.headLogits(new Tensor(r.features.final.shape, shifted));
    expect(Array.from(f.forward(data[1]).data)).toEqual(Array.from(want.data));
    expect(f.lastFitness.prediction).toBeCloseTo(f.fitness(r), 10);
  });

  it("never loses the best fitness on a fixed batch and lowers it within a few generations", () => {
    const f = new Foa(predictor, source, cfg);
    const x = data[0];
    const best: number[] = [];
    for (let g = 0; g < 4; g++) {
      f.forward(x);
      // The prediction candidate is last generation's best on the same batch: same prompt, same fitness.
      if (g > 0) expect(f.lastFitness.prediction).toBe(best[g - 1]);
      best.push(f.lastFitness.best);
    }
    for (let g = 1; g < best.length; g++) expect(best[g]).toBeLessThanOrEqual(best[g - 1]);
    const start = manual(x, new Float32Array(dims));
    expect(best.at(-1)!).toBeLessThan(f.fitness(start));
  });

  it.each(["auto", "sep"] as const)("is deterministic, and save -> load -> continue gives the same logits (%s CMA-ES)", (cma) => {
    const c = { ...small, cma };
    const straight = new Foa(predictor, source, c);
    const expected = data.slice(0, 3).map((x) => Array.from(straight.forward(x).data));
    const first = new Foa(predictor, source, c);
    expect(Array.from(first.forward(data[0]).data)).toEqual(expected[0]);
    const file = join(mkdtempSync(join(tmpdir(), "foa-")), "foa.safetensors");
    writeAdapterState(file, first.save());
    const resumed = new Foa(predictor, source, c);
    resumed.load(readAdapterState(file));
    expect(data.slice(1, 3).map((x) => Array.from(resumed.forward(x).data))).toEqual(expected.slice(1));
    expect(Array.from(resumed.bestPrompt)).toEqual(Array.from(straight.bestPrompt));
    expect(resumed.stats().extra.sigma).toBe(straight.stats().extra.sigma);
    expect(resumed.stats().forwardPasses).toBe(2 * 10);
  });

  it("draws different candidates with a different seed", () => {
    const a = new Foa(predictor, source, small);
    const b = new Foa(predictor, source, { ...small, seed: 6 });
    a.forward(data[0]);
    b.forward(data[0]);
    expect(Array.from(a.bestPrompt)).not.toEqual(Array.from(b.bestPrompt));
  });

  it("reset starts again from the zero prompt", () => {
    const f = new Foa(predictor, source, small);
    const first = Array.from(f.forward(data[0]).data);
    f.forward(data[1]);
    f.reset();
    expect(f.stats().forwardPasses).toBe(0);
    expect(Array.from(f.forward(data[0]).data)).toEqual(first);
  });
});
