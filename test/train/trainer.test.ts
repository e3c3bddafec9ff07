// The trainer end to end on tiny models and data (loss goes down, same seed same weights), the optimizers against
// hand-computed PyTorch updates, the schedule, and the augmentation.
import { describe, expect, it } from "vitest";
import { proceduralSet } from "../../src/data/procedural.js";
import { cifarResNetConfig } from "../../src/models/resnet.js";
import { Rng } from "../../src/tensor/rng.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { param } from "../../src/train/autograd.js";
import { channelStats, gatherBatch } from "../../src/train/batches.js";
import { type TrainArch, initModel, stateTensors } from "../../src/train/models.js";
import { cosineLr, makeOptimizer } from "../../src/train/optim.js";
import { evaluate, train } from "../../src/train/trainer.js";
import { expectClose } from "../helpers/close.js";

const F32 = { atol: 1e-6, rtol: 1e-6 };

describe("optimizers (PyTorch update rules)", () => {
  it("SGD with momentum, nesterov and weight decay on selected parameters", () => {
    const w = param(Tensor.from([2], [1, -2]));
    const b = param(Tensor.from([1], [0.5]));
    const opt = makeOptimizer({ kind: "sgd", lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }, new Map([["w", w], ["b", b]]), (n) => n === "w");
    // step 1: g = 1 + 0.01*1 = 1.01, buf = 1.01, update g + 0.9 buf = 1.919 -> 1 - 0.1919 = 0.8081
    w.grad = Tensor.from([2], [1, 0]);
    b.grad = Tensor.from([1], [2]);
    opt.step(0.1);
    expectClose(w.value.data, [0.8081, -2 - 0.1 * (-0.02 + 0.9 * -0.02)], F32, "w after 1");
    expectClose(b.value.data, [0.5 - 0.1 * (2 + 0.9 * 2)], F32, "b (no decay)");
    // step 2: g = 1 + 0.01*0.8081 = 1.008081, buf = 0.9*1.01 + g = 1.917081, update g + 0.9 buf
    w.grad = Tensor.from([2], [1, 0]);
    opt.step(0.1);
    const g2 = 1 + 0.01 * Math.fround(0.8081);
    expectClose([w.value.data[0]], [0.8081 - 0.1 * (g2 + 0.9 * (0.9 * 1.01 + g2))], { atol: 1e-6, rtol: 0 }, "w after 2");
    opt.zeroGrad();
    expect(w.grad).toBeNull();
  });

  it("AdamW with decoupled weight decay and bias correction", () => {
    const w = param(Tensor.from([1], [1]));
    const opt = makeOptimizer({ kind: "adamw", lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 }, new Map([["w", w]]), () => true);
    w.grad = Tensor.from([1], [0.5]);
    opt.step(0.01);
    // m/bc1 = 0.5, v/bc2 = 0.25: step = 0.01 * 0.5 / (0.5 + 1e-8); decay 1 - 0.001
    expectClose(w.value.data, [1 * 0.999 - 0.01 * (0.5 / (0.5 + 1e-8))], F32, "w after 1");
  });

  it("cosine schedule with linear warm-up", () => {
    expect(cosineLr(0, 100, 10, 1)).toBeCloseTo(0.1, 12);
    expect(cosineLr(9, 100, 10, 1)).toBeCloseTo(1, 12);
    expect(cosineLr(10, 100, 10, 1)).toBeCloseTo(1, 12);
    expect(cosineLr(55, 100, 10, 1)).toBeCloseTo(0.5, 12);
    expect(cosineLr(100, 100, 10, 1, 0.01)).toBeCloseTo(0.01, 12);
  });
});

describe("batches", () => {
  it("gathers by index; the augmentation shifts by at most 4 and may flip, with zero fill", () => {
    const set = proceduralSet(3, 1, { size: 8 });
    const plain = gatherBatch(set, [2, 0], null, null);
    expect(plain.labels).toEqual(Uint8Array.from([2, 0]));
    expect(plain.images.subarray(0, 192)).toEqual(set.images.subarray(384, 576));
    // A ramp image x + 10 y in every channel identifies where each output pixel came from.
    const ramp = { ...set, count: 1, images: Uint8Array.from({ length: 192 }, (_, i) => (i % 64) % 8 + 10 * Math.floor((i % 64) / 8) + 1) };
    const rng = new Rng(5);
    for (let t = 0; t < 20; t++) {
      const out = gatherBatch(ramp, [0], rng, { pad: 4, flip: true }).images;
      const known = [...out.subarray(0, 64)].map((v, p) => [v, p] as const).filter(([v]) => v > 0);
      expect(known.length).toBeGreaterThan(0);
      for (const [v, p] of known) {
        const [sx, sy] = [(v - 1) % 10, Math.floor((v - 1) / 10)];
        expect(Math.abs(sy - Math.floor(p / 8))).toBeLessThanOrEqual(4);
        expect(Math.min(Math.abs(sx - (p % 8)), Math.abs(sx - (7 - (p % 8))))).toBeLessThanOrEqual(4);
      }
    }
  });

  it("channel statistics of x/255", () => {
    const set = { images: Uint8Array.from([0, 255, 51, 51]), labels: Uint8Array.of(0), count: 1, channels: 2, height: 1, width: 2 };
    const s = channelStats(set);
    expect(s.mean).toEqual([0.5, 0.2]);
    expect(s.std).toEqual([0.5, 0]);
  });
});

describe("train", () => {
  const arch: TrainArch = { kind: "cifar_resnet", config: cifarResNetConfig(8, 10, 16) };
  const data = proceduralSet(64, 3, { size: 16 });
  const norm = channelStats(data);
  const opts = {
    epochs: 3,
    batchSize: 16,
    optimizer: { kind: "adamw" as const, lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
    warmupEpochs: 0.25,
    labelSmoothing: 0.1,
    augment: false,
    seed: 1,
    norm,
  };

  const vit: TrainArch = {
    kind: "vit",
    config: { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 2, numClasses: 10, eps: 1e-6 },
  };
  for (const [name, a] of [["ResNet-8", arch], ["ViT", vit]] as const) {
    it(`lowers the training loss of a tiny ${name} on a tiny set, and reports each epoch`, () => {
      const model = initModel(a, new Rng(1));
      const before = evaluate(model, data, norm).loss;
      const history = train(model, data, data, opts);
      expect(history.map((h) => h.epoch)).toEqual([1, 2, 3]);
      expect(history[2].trainLoss).toBeLessThan(history[0].trainLoss);
      expect(evaluate(model, data, norm).loss).toBeLessThan(before);
    });
  }

  it("is deterministic: the same seed gives the same weights (with augmentation)", () => {
    const run = () => {
      const model = initModel(arch, new Rng(2));
      train(model, data, data, { ...opts, epochs: 1, maxStepsPerEpoch: 2, augment: true });
      return stateTensors(model);
    };
    const [a, b] = [run(), run()];
    for (const [name, t] of a) expect(t.data, name).toEqual(b.get(name)!.data);
  });
});
