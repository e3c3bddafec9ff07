// ZOA against the PyTorch reference written from the spec (tools/reference/zoa_step.py, zoa-method.md 3-7):
// two ZOA steps on the tiny ResNet / ViT with fixed perturbations (losses L2 and L1, the updated thetaTilde, the
// predictions), and the knowledge bank's fusion and slot saving. Fixtures: test/golden/zoa_step_{resnet,vit}.json,
// test/golden/zoa_bank.json. ZOA_GOLDEN_REPORT=1 prints the measured maximum errors.
//
// Tolerances (|a - e| <= atol + rtol |e|):
// - source statistics (float64 moments of float32 features): atol 1e-5. Both forwards are float32 with different
//   summation orders; the features are O(1).
// - L2, L1: rtol 1e-5 (float32 forward, float64 reductions).
// - thetaTilde after a step: atol 1e-6 (|thetaTilde| is 3e-3 .. 3e-2 here; the weight-decay term of step 2 is
//   5e-5 .. 1e-4, so a missing or wrong decay fails).
// - L1 - L2: atol 1e-6 * c / (2 lr) (ResNet 5e-8, ViT 2e-6). thetaTilde = -lr (L1 - L2) / (c u) (+ decay) with
//   |u| >= 0.5, so an error e in L1 - L2 moves thetaTilde by up to 2 lr e / c: this bound keeps that within 1e-6.
// - predictions (logits): atol 1e-5.
// - bank (pure float64 arithmetic on float32 operands, rounded once): weights rtol 1e-12; theta and the new
//   logit 1 float32 ulp at |x| < 2 (atol 2.5e-7); Delta_new and the re-solved thetaTilde atol 1e-8.
// Measured (torch 1.13, Node 20): relative L2 / L1 error <= 1e-7; L1 - L2 ResNet 6e-9, ViT 2e-7; thetaTilde
// 1.5e-7; predictions 3e-6 (ViT); source statistics 3e-7; bank: exact.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../helpers/backends.js";
import type { Classifier } from "../../src/models/model.js";
import { Tensor } from "../../src/tensor/index.js";
import { KnowledgeBank } from "../../src/zoa/bank.js";
import { type SourceStats, batchMean, featureGroups, moments } from "../../src/zoa/features.js";
import { zoaAdaptedLayers } from "../../src/zoa/layer_choice.js";
import { ShiftDetector } from "../../src/zoa/shift_detector.js";
import { Zoa, zoaSpecConfig } from "../../src/zoa/zoa.js";
import { expectClose, maxAbsDiff } from "../helpers/close.js";
import { detUniform } from "../helpers/detweights.js";
import { type GoldenArray, goldenF32, loadGolden } from "../helpers/golden.js";
import { tinyResNet, tinyViT } from "../helpers/tiny_models.js";

interface DetSpec {
  name: string;
  shape: number[];
  offset: number;
  scale: number;
}

interface StepGolden {
  config: { lambda: number; c: number; lr: number; weightDecay: number; threshold: number };
  layers: { name: string; channels: number }[];
  source: DetSpec;
  sourceStats: { groups: { mean: number[]; std: number[] }[]; finalMean: GoldenArray };
  steps: {
    input: DetSpec;
    perturbation: { name: string; u: GoldenArray };
    L2: number;
    L1: number;
    tildeBefore: GoldenArray[];
    tildeAfter: GoldenArray[];
    prediction: GoldenArray;
    activationShifted: boolean;
    detectorDistance: number | null;
  }[];
}

interface BankGolden {
  s: number;
  layers: { name: string; channels: number }[];
  alpha: number[];
  weights: number[];
  slots: DetSpec[][];
  cases: {
    label: string;
    tilde: DetSpec[];
    theta: GoldenArray[];
    save: { r: number; aNew: number; alpha: number[]; weights: number[]; delta: GoldenArray[]; tilde: GoldenArray[]; theta: GoldenArray[] };
  }[];
}

/** float32(offset + scale * u(name, i)), as tools/reference/zoa_step.py's det_array. */
function detValues(spec: DetSpec): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  return Float32Array.from(detUniform(spec.name, n), (u) => spec.scale * u + spec.offset);
}

function detTensor(spec: DetSpec): Tensor {
  return new Tensor(spec.shape, detValues(spec));
}

/** Source statistics the engine's way (sourceStatistics), from a normalised batch instead of an ImageSet. */
function sourceStatsOf(model: Classifier, x: Tensor): SourceStats {
  const { features } = model.forward(x);
  return { groups: featureGroups(features).map(moments), finalMean: batchMean(features.final), images: x.shape[0] };
}

const report: Record<string, number> = {};
function note(key: string, v: number): void {
  report[key] = Math.max(report[key] ?? 0, v);
}
afterAll(() => {
  if (process.env.ZOA_GOLDEN_REPORT) console.log(JSON.stringify(report, null, 1));
});

const relErr = (a: number, e: number): number => Math.abs(a - e) / Math.abs(e);

describe.each(
  TEST_BACKENDS.flatMap((b) =>
    [
      ["resnet", b, tinyResNet],
      ["vit", b, tinyViT],
    ] as const,
  ),
)("one ZOA step on the tiny %s matches the PyTorch reference (backend %s)", (kind, backend, make) => {
  useBackend(backend);
  const g = loadGolden<StepGolden>(`zoa_step_${kind}`);
  const model = make();
  let source: SourceStats;
  beforeAll(() => {
    source = sourceStatsOf(model, detTensor(g.source)); // on the backend under test
  });
  const cfg = zoaSpecConfig(model, null, { lr: g.config.lr, seed: 0 });

  it("uses the spec's layers, step sizes and weights", () => {
    expect(zoaAdaptedLayers(model).map((l) => ({ name: l.name, channels: l.channels }))).toEqual(g.layers);
    expect([cfg.lambda, cfg.c, cfg.weightDecay, cfg.threshold]).toEqual([g.config.lambda, g.config.c, g.config.weightDecay, g.config.threshold]);
  });

  it("computes the same source statistics", () => {
    g.sourceStats.groups.forEach((grp, i) => {
      expectClose(source.groups[i].mean, grp.mean, { atol: 1e-5, rtol: 0 }, `group ${i} mean`);
      expectClose(source.groups[i].std, grp.std, { atol: 1e-5, rtol: 0 }, `group ${i} std`);
      note(`${kind}.sourceStats`, Math.max(maxAbsDiff(source.groups[i].mean, grp.mean), maxAbsDiff(source.groups[i].std, grp.std)));
    });
    expectClose(source.finalMean, goldenF32(g.sourceStats.finalMean), { atol: 1e-5, rtol: 0 }, "finalMean");
  });

  it("matches L2, L1, the updated thetaTilde and the prediction over two steps", () => {
    const perturbations = g.steps.map((s) => goldenF32(s.perturbation.u));
    const zoa = new Zoa({ model }, source, cfg, {
      perturbation: (count, batch) => {
        expect(count).toBe(perturbations[batch].length);
        return perturbations[batch];
      },
    });
    g.steps.forEach((step, k) => {
      zoa.bank.tilde.forEach((t, l) => expectClose(t, goldenF32(step.tildeBefore[l]), { atol: 1e-6, rtol: 0 }, `step ${k} tilde before, layer ${l}`));
      const prediction = zoa.forward(detTensor(step.input));
      expect(zoa.bank.slots.length, "no slot saved (no shift between the batches)").toBe(0);
      expect(relErr(zoa.lastLoss, step.L2), `step ${k} L2 = ${zoa.lastLoss}, expected ${step.L2}`).toBeLessThanOrEqual(1e-5);
      expect(relErr(zoa.lastPerturbedLoss, step.L1), `step ${k} L1 = ${zoa.lastPerturbedLoss}, expected ${step.L1}`).toBeLessThanOrEqual(1e-5);
      const diff = zoa.lastPerturbedLoss - zoa.lastLoss;
      const diffTol = (1e-6 * cfg.c) / (2 * cfg.lr);
      expect(Math.abs(diff - (step.L1 - step.L2)), `step ${k} L1 - L2 = ${diff}, expected ${step.L1 - step.L2}`).toBeLessThanOrEqual(diffTol);
      note(`${kind}.relErr.L2`, relErr(zoa.lastLoss, step.L2));
      note(`${kind}.relErr.L1`, relErr(zoa.lastPerturbedLoss, step.L1));
      note(`${kind}.absErr.L1-L2`, Math.abs(diff - (step.L1 - step.L2)));
      zoa.bank.tilde.forEach((t, l) => {
        const e = goldenF32(step.tildeAfter[l]);
        expectClose(t, e, { atol: 1e-6, rtol: 0 }, `step ${k} tilde after, layer ${l}`);
        note(`${kind}.absErr.tilde.step${k}`, maxAbsDiff(t, e));
        note(`${kind}.maxAbs.tilde.step${k}`, maxAbsDiff(e, new Float32Array(e.length)));
      });
      expect(zoa.hist !== null).toBe(true);
      expectClose(prediction.data, goldenF32(step.prediction), { atol: 1e-5, rtol: 0 }, `step ${k} prediction`);
      note(`${kind}.absErr.prediction`, maxAbsDiff(prediction.data, goldenF32(step.prediction)));
    });
    expect(zoa.shifts).toBe(0);
  });

  it("the shift detector's distance between the two batches matches and stays under the threshold", () => {
    const det = new ShiftDetector(cfg.threshold);
    const obs = g.steps.map((s) => det.observe(model.forward(detTensor(s.input)).features.embed));
    expect(obs[0].distance).toBeNull();
    const want = g.steps[1].detectorDistance as number;
    expect(relErr(obs[1].distance as number, want), `distance ${obs[1].distance}, expected ${want}`).toBeLessThanOrEqual(1e-3);
    note(`${kind}.relErr.detectorDistance`, relErr(obs[1].distance as number, want));
    expect(obs[1].shifted).toBe(false);
  });
});

describe("the knowledge bank matches the PyTorch reference", () => {
  const g = loadGolden<BankGolden>("zoa_bank");
  const model = tinyViT();
  const layers = zoaAdaptedLayers(model).map((n) => ({
    name: n.name,
    channels: n.channels,
    w0: model.params.get(`${n.name}.weight`).data,
    b0: model.params.get(`${n.name}.bias`).data,
  }));

  function thetaOf(bank: KnowledgeBank): Float32Array[] {
    const o = bank.overrides();
    return layers.map((l) => {
      const a = o.get(l.name);
      if (!a?.weight || !a.bias) throw new Error(`no override for ${l.name}`);
      const out = new Float32Array(2 * l.channels);
      out.set(a.weight.data, 0);
      out.set(a.bias.data, l.channels);
      return out;
    });
  }

  it.each(g.cases.map((c) => [c.label, c] as const))("fusion and saving a slot (%s branch)", (label, c) => {
    expect(layers.map((l) => ({ name: l.name, channels: l.channels }))).toEqual(g.layers);
    const bank = new KnowledgeBank(layers, { maxSlots: 32 });
    expect(bank.s).toBe(g.s);
    bank.alpha = [...g.alpha];
    bank.slots = g.slots.map((specs, j) => ({ id: j + 1, createdAt: j, deltas: specs.map(detValues) }));
    bank.setNextId(g.slots.length + 1);
    bank.tilde = c.tilde.map(detValues);
    expectClose(bank.weights(), g.weights, { atol: 0, rtol: 1e-12 }, "softmax(s alpha)");
    const theta = thetaOf(bank);
    theta.forEach((t, l) => expectClose(t, goldenF32(c.theta[l]), { atol: 2.5e-7, rtol: 0 }, `${label}: theta layer ${l}`));
    theta.forEach((t, l) => note(`bank.absErr.theta`, maxAbsDiff(t, goldenF32(c.theta[l]))));

    expect(bank.saveSlot(9)).toBeNull();
    expect(bank.alpha.slice(0, -1)).toEqual(g.alpha);
    expect(Math.abs(bank.alpha[bank.alpha.length - 1] - c.save.aNew), `a_new (r = ${c.save.r})`).toBeLessThanOrEqual(2.5e-7);
    note("bank.absErr.aNew", Math.abs(bank.alpha[bank.alpha.length - 1] - c.save.aNew));
    expectClose(bank.weights(), c.save.weights, { atol: 1e-7, rtol: 0 }, "weights after the save");
    const added = bank.slots[bank.slots.length - 1];
    added.deltas.forEach((d, l) => expectClose(d, goldenF32(c.save.delta[l]), { atol: 1e-8, rtol: 0 }, `${label}: Delta_new layer ${l}`));
    bank.tilde.forEach((t, l) => expectClose(t, goldenF32(c.save.tilde[l]), { atol: 1e-8, rtol: 0 }, `${label}: re-solved tilde layer ${l}`));
    const after = thetaOf(bank);
    after.forEach((t, l) => expectClose(t, goldenF32(c.save.theta[l]), { atol: 2.5e-7, rtol: 0 }, `${label}: theta after the save, layer ${l}`));
    layers.forEach((_, l) => {
      note("bank.absErr.delta", maxAbsDiff(added.deltas[l], goldenF32(c.save.delta[l])));
      note("bank.absErr.tilde", maxAbsDiff(bank.tilde[l], goldenF32(c.save.tilde[l])));
      note("bank.absErr.thetaAfter", maxAbsDiff(after[l], goldenF32(c.save.theta[l])));
      // The save leaves the model's function unchanged.
      note("bank.thetaChangedBySave", maxAbsDiff(after[l], theta[l]));
    });
  });
});
