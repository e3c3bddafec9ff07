// The demo report's view of ZOA's bank, against the bank itself read by the test after every batch: the slots
// (id, batch saved, domain learned = the domain of the batch before), and at each domain's end exactly the slots
// then held with their fusion weights softmax(10 alpha).
import { describe, expect, it } from "vitest";
import { normalizeBatch } from "../../src/data/cifar.js";
import { sourceStatistics } from "../../src/zoa/features.js";
import { Zoa, zoaSpecConfig } from "../../src/zoa/zoa.js";
import { ZoaTracer } from "../../src/cli/zoa_trace.js";
import { randomImages, tinyResNet } from "../helpers/tiny_models.js";

describe("ZoaTracer", () => {
  it("records the bank's slots and the fusion weights at each domain's end", () => {
    const model = tinyResNet();
    const predictor = { model };
    const source = sourceStatistics(predictor, randomImages(128, 7), 128);
    // Large steps and a low threshold so the tiny model saves slots within a few batches (as test/zoa/zoa.test.ts).
    const zoa = new Zoa(predictor, source, zoaSpecConfig(model, null, { lr: 5e-2, threshold: 0.05, seed: 11 }));
    const tracer = new ZoaTracer(zoa);
    const domains = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur"];
    const domainOfStep: string[] = [];
    const expectedEnds: { domain: string; weights: Record<string, number> }[] = [];
    let step = 0;
    domains.forEach((domain, d) => {
      const set = randomImages(128, 100 + d, [0, 60, -40, 30][d]);
      for (let s = 0; s < 128; s += 64) {
        zoa.forward(normalizeBatch(set, s, 64, model.mean, model.std));
        domainOfStep.push(domain);
        tracer.observe({ domain, step: step++ });
      }
      // The oracle: the bank read directly at the end of the domain.
      const w = zoa.bank.weights();
      expectedEnds.push({ domain, weights: Object.fromEntries([["source", w[0]], ...zoa.bank.slots.map((sl, j) => [String(sl.id), w[j + 1]])]) });
    });
    const t = tracer.result();
    expect(zoa.shifts).toBeGreaterThanOrEqual(2);
    expect(t.shifts).toBe(zoa.shifts);
    expect(zoa.bank.removed).toEqual([]);
    expect(t.slots).toEqual(zoa.bank.slots.map((s) => ({ id: s.id, savedAt: s.createdAt, learnedOn: domainOfStep[s.createdAt - 1] })));
    expect(t.atDomainEnd).toEqual(expectedEnds);
    for (const e of t.atDomainEnd) expect(Object.values(e.weights).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // A slot appears only from the domain in which it was saved.
    for (const s of t.slots) {
      const savedIn = domains.indexOf(domainOfStep[s.savedAt]);
      t.atDomainEnd.forEach((e, i) => expect(String(s.id) in e.weights).toBe(i >= savedIn));
    }
  });
});
