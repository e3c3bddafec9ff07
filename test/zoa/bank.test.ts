// Knowledge-bank invariants (zoa-method.md sections 3 and 6): saving and removing slots never changes the fused
// parameters; the bound holds; the new slot's weight is 1 - 1/r; removal deletes the older of the most similar pair.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BankLayer, KnowledgeBank } from "../../src/zoa/bank.js";
import { Rng } from "../../src/tensor/index.js";

function layers(rng: Rng): BankLayer[] {
  return [3, 5, 2].map((C, i) => ({ name: `l${i}`, channels: C, w0: Float32Array.from({ length: C }, () => 1 + rng.normal() * 0.1), b0: Float32Array.from({ length: C }, () => rng.normal() * 0.1) }));
}

function fusedParams(bank: KnowledgeBank): number[] {
  const out: number[] = [];
  for (const [, a] of bank.overrides()) out.push(...a.weight.data, ...a.bias.data);
  return out;
}

function randomize(bank: KnowledgeBank, rng: Rng, scale: number): void {
  for (const t of bank.tilde) for (let i = 0; i < t.length; i++) t[i] = rng.normal() * scale;
  bank.alpha = bank.alpha.map(() => rng.normal() * 0.3);
}

describe("KnowledgeBank", () => {
  it("saving and removing slots leaves every fused parameter unchanged (random sequences)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 5 }), (seed, maxSlots) => {
        const rng = new Rng(seed);
        const bank = new KnowledgeBank(layers(rng), { maxSlots });
        for (let step = 0; step < 12; step++) {
          randomize(bank, rng, rng.uniform() < 0.5 ? 0.002 : 0.05);
          const before = fusedParams(bank);
          bank.saveSlot(step);
          const after = fusedParams(bank);
          for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(before[i], 5);
          expect(bank.slots.length).toBeLessThanOrEqual(maxSlots);
          expect(bank.alpha.length).toBe(bank.slots.length + 1);
        }
      }),
      { numRuns: 60, seed: 3 },
    );
  });

  it("the new slot gets softmax weight 1 - 1/r when r > 1", () => {
    const rng = new Rng(1);
    const bank = new KnowledgeBank(layers(rng), { maxSlots: 8 });
    for (const t of bank.tilde) t.fill(0.03); // mean |tilde| = 0.03 -> r = 3
    bank.saveSlot(0);
    const w = bank.weights();
    expect(w[1]).toBeCloseTo(1 - 1 / 3, 6); // float32 thetaTilde and logits
  });

  it("with r <= 1 the new logit is the current maximum", () => {
    const rng = new Rng(2);
    const bank = new KnowledgeBank(layers(rng), { maxSlots: 8 });
    for (const t of bank.tilde) t.fill(0.001);
    bank.alpha = [0.2];
    bank.saveSlot(0);
    expect(bank.alpha[1]).toBeCloseTo(0.2, 7);
  });

  it("removes the older slot of the most cosine-similar pair", () => {
    const rng = new Rng(4);
    const bank = new KnowledgeBank(layers(rng), { maxSlots: 3 });
    const set = (v: (i: number) => number) => {
      for (const t of bank.tilde) for (let i = 0; i < t.length; i++) t[i] = v(i);
    };
    // slots 1 and 3 point the same way; 2 is orthogonal-ish.
    set((i) => (i % 2 ? 0.05 : -0.05));
    bank.saveSlot(0);
    set(() => 0.05);
    bank.saveSlot(1);
    set((i) => (i % 2 ? 0.1 : -0.1));
    bank.saveSlot(2);
    set((i) => (i % 3 ? 0.02 : -0.04));
    bank.saveSlot(3); // full: must drop slot 1 (older of the similar pair 1, 3)
    expect(bank.removed).toEqual([1]);
    expect(bank.slots.map((s) => s.id)).toEqual([2, 3, 4]);
  });

  it("a byte budget bounds the slot count", () => {
    const rng = new Rng(5);
    const bank = new KnowledgeBank(layers(rng), { maxSlots: 32, maxBytes: 2 * 20 * 4 + 1 });
    expect(bank.slotBytes()).toBe(20 * 4);
    expect(bank.capacity()).toBe(2);
    for (let i = 0; i < 6; i++) {
      randomize(bank, rng, 0.02);
      bank.saveSlot(i);
    }
    expect(bank.slots.length).toBe(2);
  });

  it("int8 slots are 4x smaller and still leave the fused parameters unchanged", () => {
    const rng = new Rng(6);
    const bank = new KnowledgeBank(layers(rng), { maxSlots: 4, storage: "i8" });
    expect(bank.slotBytes()).toBe(20 + 3 * 2 * 4);
    randomize(bank, rng, 0.05);
    const before = fusedParams(bank);
    bank.saveSlot(0);
    fusedParams(bank).forEach((v, i) => expect(v).toBeCloseTo(before[i], 5));
  });
});
