// TENT on the tiny deterministic ResNet: one forward pass (and one backward) per batch, the first prediction is
// NormAdapt's, the model's parameters are never written, entropy minimisation lowers the entropy of a batch it
// adapts on, one SGD step matches a central finite difference of the entropy w.r.t. one BN bias, runs are
// deterministic, save -> load continues identically, reset returns to the source affine.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { normalizeBatch } from "../../src/data/cifar.js";
import type { LayerOps } from "../../src/models/layers.js";
import type { Classifier, NormAffine } from "../../src/models/model.js";
import { Tensor } from "../../src/tensor/index.js";
import { NoAdapt, NormAdapt } from "../../src/zoa/baselines.js";
import { createAdapter } from "../../src/zoa/methods.js";
import { TENT_LAYERS_ERROR, Tent, meanEntropyAndGrad } from "../../src/zoa/tent.js";
import { readAdapterState, writeAdapterState } from "../../src/zoa/adapter_state_file.js";
import { maxAbsDiff } from "../helpers/close.js";
import { randomImages, tinyResNet, tinyViT } from "../helpers/tiny_models.js";

function batch(model: Classifier, n: number, seed: number, tint = 0): Tensor {
  return normalizeBatch(randomImages(n, seed, tint), 0, n, model.mean, model.std);
}

function snapshot(model: Classifier): Map<string, Float32Array> {
  return new Map(model.params.names().map((n) => [n, Float32Array.from(model.params.get(n).data)]));
}

describe("Tent", () => {
  it("predicts like NormAdapt first, one forward + one backward per batch, never writes the model", () => {
    const model = tinyResNet();
    const before = snapshot(model);
    const tent = new Tent({ model });
    const norm = new NormAdapt({ model });
    const x = batch(model, 8, 1, 20);
    const first = tent.forward(x);
    expect(maxAbsDiff(first.data, norm.forward(x).data)).toBeLessThan(1e-4);
    tent.forward(batch(model, 8, 2, 20));
    tent.forward(batch(model, 8, 3, 20));
    const s = tent.stats();
    expect(s.forwardPasses).toBe(3);
    expect(s.batches).toBe(3);
    expect(s.extra.backwardPasses).toBe(3);
    const bnChannels = model.normLayers.reduce((a, l) => a + l.channels, 0);
    // Affine + momentum (float32) plus the tape of one batch (tape_bytes.test.ts checks the count itself).
    expect(s.extra.tapeBytes).toBeGreaterThan(0);
    expect(s.adapterBytes).toBe(bnChannels * 2 * 2 * 4 + s.extra.tapeBytes);
    for (const [n, v] of before) expect(maxAbsDiff(model.params.get(n).data, v), n).toBe(0);
    // The second prediction differs from NormAdapt's (the affine moved), and reset returns to the first.
    expect(maxAbsDiff(tent.forward(x).data, first.data)).toBeGreaterThan(0);
    tent.reset();
    expect(maxAbsDiff(tent.forward(x).data, first.data)).toBe(0);
    expect(tent.stats().forwardPasses).toBe(1);
  });

  it("lowers the entropy of a batch it adapts on", () => {
    const model = tinyResNet();
    const tent = new Tent({ model });
    const x = batch(model, 16, 4, 30);
    const losses: number[] = [];
    for (let k = 0; k < 6; k++) losses.push(meanEntropyAndGrad(tent.forward(x)).loss);
    for (let k = 1; k < losses.length; k++) expect(losses[k]).toBeLessThan(losses[k - 1]);
  });

  // The gradient of the mean entropy w.r.t. a BN bias, by central difference through the inference model
  // (NormAdapt's forward with that bias overridden), against the first SGD step of Tent (momentum buffer = gradient).
  // lr 1 keeps float32 rounding of the updated bias out of (b0 - b1) / lr. h = 3e-3: the float32 forward limits
  // the difference to ~1e-5 absolute, and ReLU kinks crossed within +-h bias it; measured agreement on this
  // model: layer3.0.bn2 bias[0] 1e-5 relative, layer2.0.bn2 bias[0] 0.1% (its gradient passes back through the
  // batch-statistics BatchNorms and convs of layer3). Stated tolerances: 0.2% and 2% relative.
  it.each([
    ["layer3.0.bn2", 0, 0.002],
    ["layer2.0.bn2", 0, 0.02],
  ] as const)("one SGD step equals lr times a central finite difference of the entropy w.r.t. %s.bias[%i]", (layer, c, relTol) => {
    const model = tinyResNet();
    const name = `${layer}.bias`;
    const x = batch(model, 8, 5, 10);
    const w0 = model.params.get(`${layer}.weight`);
    const b0 = model.params.get(name);
    const entropyAt = (delta: number): number => {
      const bias = Float32Array.from(b0.data);
      bias[c] += delta;
      const overrides = new Map<string, NormAffine>([[layer, { weight: w0, bias: new Tensor(b0.shape, bias) }]]);
      return meanEntropyAndGrad(model.forward(x, { bnStats: "batch", normOverrides: overrides }).logits).loss;
    };
    const h = 3e-3;
    const fd = (entropyAt(h) - entropyAt(-h)) / (2 * h);
    const lr = 1;
    const tent = new Tent({ model }, { lr, momentum: 0.9 });
    tent.forward(x);
    const step = (b0.data[c] - tent.affineValue(name)[c]) / lr;
    expect(Math.abs(fd)).toBeGreaterThan(1e-3); // a non-trivial gradient
    expect(Math.abs(step - fd)).toBeLessThan(relTol * Math.abs(fd));
    // The default lr scales the same step: b1 = b0 - 1e-3 g.
    const tentDefault = new Tent({ model });
    tentDefault.forward(x);
    expect(Math.abs(b0.data[c] - tentDefault.affineValue(name)[c] - 1e-3 * step)).toBeLessThan(1e-7);
  });

  it("is deterministic and save -> load continues identically", () => {
    const model = tinyResNet();
    const xs = [1, 2, 3, 4].map((s) => batch(model, 8, 10 + s, 15));
    const a = new Tent({ model });
    const b = new Tent({ model });
    for (const x of xs) expect(maxAbsDiff(a.forward(x).data, b.forward(x).data)).toBe(0);

    const c = new Tent({ model });
    c.forward(xs[0]);
    c.forward(xs[1]);
    const path = join(mkdtempSync(join(tmpdir(), "tent-")), "tent.safetensors");
    writeAdapterState(path, c.save());
    const d = new Tent({ model });
    d.load(readAdapterState(path));
    const e = createAdapter("tent", { predictor: { model }, source: undefined as never, bits: null, seed: 0, zoaVariant: "zoa" as never });
    e.load(c.save());
    for (const x of xs.slice(2)) {
      const ref = c.forward(x).data;
      expect(maxAbsDiff(d.forward(x).data, ref)).toBe(0);
      expect(maxAbsDiff(e.forward(x).data, ref)).toBe(0);
    }
  });

  it("on a ViT trains the LayerNorm affine and first predicts like NoAdapt", () => {
    const model = tinyViT();
    const before = snapshot(model);
    const tent = new Tent({ model });
    const x = batch(model, 4, 6, 10);
    const first = tent.forward(x);
    expect(maxAbsDiff(first.data, new NoAdapt({ model }).forward(x).data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(tent.forward(x).data, first.data)).toBeGreaterThan(0);
    const s = tent.stats();
    expect(s.adapterBytes).toBe(model.normLayers.reduce((a, l) => a + l.channels, 0) * 2 * 2 * 4 + s.extra.tapeBytes);
    for (const [n, v] of before) expect(maxAbsDiff(model.params.get(n).data, v), n).toBe(0);
  });

  it("refuses a layer execution it cannot differentiate (a QuantizedModel's runs with the STE: tent_quant.test.ts)", () => {
    const model = tinyResNet();
    expect(() => new Tent({ model, layers: {} as LayerOps })).toThrow(TENT_LAYERS_ERROR);
  });
});
