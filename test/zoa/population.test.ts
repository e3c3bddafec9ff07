// The population SPSA estimate (src/zoa/population.ts): per-sample norm affines in one forward pass equal
// separate passes with each group's parameters; the averaged estimate equals a naive recomputation from
// separate per-group passes; P = 1 reduces to the spec's one-perturbation step.
import { describe, expect, it } from "vitest";
import { normalizeBatch } from "../../src/data/cifar.js";
import type { NormAffine } from "../../src/models/model.js";
import { perSampleAffine } from "../../src/models/per_sample_affine.js";
import { Tensor } from "../../src/tensor/index.js";
import { ShapeError } from "../../src/tensor/shape.js";
import { meanEntropy, sourceStatistics, statDiscrepancy } from "../../src/zoa/features.js";
import { groupMembers, perSampleOverrides, takeRows } from "../../src/zoa/population.js";
import { Zoa, zoaSpecConfig } from "../../src/zoa/zoa.js";
import { maxAbsDiff } from "../helpers/close.js";
import { randomImages, tinyResNet, tinyViT } from "../helpers/tiny_models.js";

describe("perSampleAffine", () => {
  it("applies row n of W, B to sample n (naive loop oracle), channels first and last", () => {
    const x = new Tensor([2, 3, 2], Float32Array.from({ length: 12 }, (_, i) => i - 5.5));
    const W = new Tensor([2, 3], Float32Array.from([1, 2, 3, -1, 0.5, 4]));
    const B = new Tensor([2, 3], Float32Array.from([0, 1, -1, 2, 0, 3]));
    const first = perSampleAffine(x, W, B, "first");
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let i = 0; i < 2; i++) {
      const k = (n * 3 + c) * 2 + i;
      expect(first.data[k]).toBe(Math.fround(x.data[k] * W.data[n * 3 + c] + B.data[n * 3 + c]));
    }
    const x2 = new Tensor([2, 2, 3], x.data);
    const last = perSampleAffine(x2, W, B, "last");
    for (let n = 0; n < 2; n++) for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) {
      const k = (n * 2 + r) * 3 + c;
      expect(last.data[k]).toBe(Math.fround(x2.data[k] * W.data[n * 3 + c] + B.data[n * 3 + c]));
    }
  });

  it("rejects affines of the wrong shape, naming the argument", () => {
    const x = new Tensor([2, 3, 2], new Float32Array(12));
    expect(() => perSampleAffine(x, new Tensor([3], new Float32Array(3)), new Tensor([2, 3], new Float32Array(6)), "first")).toThrow(ShapeError);
    expect(() => perSampleAffine(x, new Tensor([2, 3], new Float32Array(6)), new Tensor([2, 2], new Float32Array(4)), "first")).toThrow(/bias/);
  });
});

describe("groupMembers", () => {
  it("assigns sample n to group n mod P, never more groups than samples", () => {
    expect(groupMembers(5, 2)).toEqual([[0, 2, 4], [1, 3]]);
    expect(groupMembers(3, 8)).toEqual([[0], [1], [2]]);
  });
});

describe.each([
  ["resnet", tinyResNet],
  ["vit", tinyViT],
] as const)("population estimate on the tiny %s", (_n, make) => {
  const model = make();
  const predictor = { model };
  const source = sourceStatistics(predictor, randomImages(64, 7), 64);
  const x = normalizeBatch(randomImages(16, 31, 40), 0, 16, model.mean, model.std);
  // ViT: no batch statistics, so a group's samples run alone give exactly the population pass's rows.
  // ResNet: running statistics for the same reason (the adapter itself uses batch statistics).
  const bnStats = "running" as const;

  it("one pass with per-sample affines equals one pass per group with that group's affine", () => {
    const z = new Zoa(predictor, source, zoaSpecConfig(model, null));
    const members = groupMembers(16, 4);
    const perGroup: Map<string, NormAffine>[] = members.map((_, g) => {
      const steps = z.bank.tilde.map((t) => Float32Array.from(t, (_, i) => 0.05 * Math.sin(1 + g * 7 + i)));
      return z.bank.overrides(steps, null);
    });
    const joint = model.forward(x, { normPerSample: perSampleOverrides(perGroup, members, 16), bnStats });
    members.forEach((rows, g) => {
      const alone = model.forward(takeRows(x, rows), { normOverrides: perGroup[g], bnStats });
      expect(maxAbsDiff(takeRows(joint.logits, rows).data, alone.logits.data)).toBeLessThan(1e-5);
    });
  });

});

describe("population estimate, exact oracle (tiny ViT: no batch statistics couple the groups)", () => {
  const model = tinyViT();
  const predictor = { model };
  const source = sourceStatistics(predictor, randomImages(64, 7), 64);
  const x = normalizeBatch(randomImages(16, 31, 40), 0, 16, model.mean, model.std);

  it("averages the P paired estimates exactly as separate per-group passes would, in two passes", () => {
    const P = 4;
    const lambda = 30;
    const cfg = zoaSpecConfig(model, null, { population: P, lr: 1e-2, weightDecay: 0, lambda, activationShift: false });
    const draws: Float32Array[] = [];
    const z = new Zoa(predictor, source, cfg, {
      perturbation: (n) => {
        const u = Float32Array.from({ length: n }, (_, i) => ((i * 7 + draws.length * 3) % 5 < 2 ? -1 : 1) * (0.5 + ((i * 13 + draws.length) % 11) / 22));
        draws.push(u);
        return u;
      },
    });
    const before = z.bank.tilde.map((t) => Float32Array.from(t));
    z.forward(x);
    expect(draws.length).toBe(P);
    // Naive: every group alone, clean and perturbed, loss = lambda * D + mean entropy over the group.
    const members = groupMembers(16, P);
    const loss = (rows: number[], overrides: Map<string, NormAffine>) => {
      const r = model.forward(takeRows(x, rows), { normOverrides: overrides });
      return lambda * statDiscrepancy(r.features, source) + meanEntropy(r.logits);
    };
    const fresh = new Zoa(predictor, source, cfg);
    const cleanOv = fresh.bank.overrides();
    const expected = before.map((t) => new Float64Array(t.length));
    members.forEach((rows, g) => {
      const u = draws[g];
      const steps = fresh.bank.tilde.map((t, l) => {
        const offset = fresh.bank.tilde.slice(0, l).reduce((s, v) => s + v.length, 0);
        return Float32Array.from(t, (_, i) => cfg.c * u[offset + i]);
      });
      const diff = loss(rows, fresh.bank.overrides(steps, null)) - loss(rows, cleanOv);
      expected.forEach((e, l) => {
        const offset = before.slice(0, l).reduce((s, v) => s + v.length, 0);
        for (let i = 0; i < e.length; i++) e[i] += diff / (cfg.c * u[offset + i]) / P;
      });
    });
    z.bank.tilde.forEach((t, l) => {
      const want = Float32Array.from(expected[l], (g, i) => before[l][i] - cfg.lr * g);
      expect(maxAbsDiff(t, want)).toBeLessThan(1e-4 * Math.max(1, ...Array.from(want, Math.abs)));
    });
    expect(z.stats().forwardPasses).toBe(2);
  });
});
