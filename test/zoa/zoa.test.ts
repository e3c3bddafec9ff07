// ZOA on tiny models: two forward passes per batch, determinism, stopping and resuming through a saved
// state gives the same predictions, the bank bound holds and shifts are detected between domains.
import { describe, expect, it } from "vitest";
import { normalizeBatch } from "../../src/data/cifar.js";
import { type Classifier } from "../../src/models/model.js";
import { sourceStatistics } from "../../src/zoa/features.js";
import { zoaAdaptedLayers } from "../../src/zoa/layer_choice.js";
import { Zoa, zoaSpecConfig } from "../../src/zoa/zoa.js";
import { ShiftDetector, symmetricKL } from "../../src/zoa/shift_detector.js";
import { writeAdapterState } from "../../src/zoa/adapter_state_file.js";
import { stateFromFile } from "../../src/zoa/zoa_state.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { Tensor, argmax } from "../../src/tensor/index.js";
import { randomImages, tinyResNet, tinyViT } from "../helpers/tiny_models.js";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

/** Three "domains" of 2 batches each (64 images), shifted by a tint. */
function batches(model: Classifier): Tensor[] {
  const out: Tensor[] = [];
  [0, 60, -40].forEach((tint, d) => {
    const set = randomImages(128, 100 + d, tint);
    for (let s = 0; s < 128; s += 64) out.push(normalizeBatch(set, s, 64, model.mean, model.std));
  });
  return out;
}

describe.each([
  ["resnet", tinyResNet],
  ["vit", tinyViT],
] as const)("ZOA on the tiny %s", (_n, make) => {
  const model = make();
  const predictor = { model };
  const source = sourceStatistics(predictor, randomImages(128, 7), 128);
  const data = batches(model);
  // Large steps so a tiny model moves visibly within a few batches.
  const cfg = zoaSpecConfig(model, null, { lr: 5e-2, threshold: 0.05, seed: 11 });

  it("adapts the spec's layers", () => {
    const names = zoaAdaptedLayers(model).map((l) => l.name);
    // depth 3: blocks 1 .. ceil(9/4) - 1 = 1..2; ResNet-8: every block but layer1.0 and the last stage.
    if (model.kind === "vit") expect(names).toEqual(["blocks.1.norm1", "blocks.1.norm2", "blocks.2.norm1", "blocks.2.norm2"]);
    else expect(names).toEqual(["layer2.0.bn1", "layer2.0.bn2"]);
  });

  it("uses exactly two forward passes per batch, is deterministic, and changes the parameters", () => {
    const a = new Zoa(predictor, source, cfg);
    const b = new Zoa(predictor, source, cfg);
    const pa = data.map((x) => Array.from(argmax(a.forward(x), 1)));
    const pb = data.map((x) => Array.from(argmax(b.forward(x), 1)));
    expect(pa).toEqual(pb);
    const s = a.stats();
    expect(s.forwardPasses).toBe(2 * data.length);
    expect(s.batches).toBe(data.length);
    expect(a.bank.tilde.some((t) => t.some((v) => v !== 0))).toBe(true);
    expect(a.bank.slots.length).toBeLessThanOrEqual(cfg.maxSlots);
    expect(a.shifts).toBeGreaterThanOrEqual(1);
    expect(s.extra.slots).toBe(a.bank.slots.length);
  });

  // statsMomentum: the BN statistics history (ResNet) is part of the state too
  it.each([
    ["spec", cfg],
    ["stats", { ...cfg, statsMomentum: 0.75 }],
  ] as const)("save -> load -> continue gives the same predictions as not stopping (%s)", (_c, c) => {
    const straight = new Zoa(predictor, source, c);
    const expected = data.map((x) => Array.from(straight.forward(x).data));
    const first = new Zoa(predictor, source, c);
    for (const x of data.slice(0, 3)) first.forward(x);
    expect(first.bnHistory !== null).toBe(model.kind !== "vit" && (c.statsMomentum ?? 0) > 0);
    const file = join(mkdtempSync(join(tmpdir(), "zoa-bank-")), "bank.safetensors");
    writeAdapterState(file, first.save());
    const resumed = new Zoa(predictor, source, c);
    resumed.load(stateFromFile(readSafetensors(file)));
    const got = data.slice(3).map((x) => Array.from(resumed.forward(x).data));
    expect(got).toEqual(expected.slice(3));
  });

  it("reset returns to the source model", () => {
    const z = new Zoa(predictor, source, cfg);
    const first = Array.from(z.forward(data[0]).data);
    for (const x of data.slice(1)) z.forward(x);
    z.reset();
    expect(Array.from(z.forward(data[0]).data)).toEqual(first);
  });
});

describe("ShiftDetector", () => {
  it("symmetric KL is 0 for equal statistics and grows with the mean gap", () => {
    const m = Float64Array.of(0, 1);
    const v = Float64Array.of(1, 2);
    expect(symmetricKL(m, v, m, v)).toBeCloseTo(0, 7); // eps 1e-8 in the denominators
    // one channel, means 0 vs 2, variances 1: (1 + 4)/2 + (1 + 4)/2 - 1 = 4
    expect(symmetricKL(Float64Array.of(0), Float64Array.of(1), Float64Array.of(2), Float64Array.of(1))).toBeCloseTo(4, 6);
  });

  it("fires on a shifted batch and not on a batch from the same domain; ignores small batches", () => {
    const d = new ShiftDetector(0.2);
    const t = (shift: number, n = 64) => new Tensor([n, 2, 2, 2], Float32Array.from({ length: n * 8 }, (_, i) => Math.sin(i * 1.7) + shift));
    expect(d.observe(t(0)).shifted).toBe(false); // initialises
    expect(d.observe(t(0.01)).shifted).toBe(false);
    expect(d.observe(t(3, 10)).distance).toBeNull();
    expect(d.observe(t(3)).shifted).toBe(true);
  });
});
