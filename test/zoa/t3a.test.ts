// T3A on the tiny deterministic models: one forward pass per batch, at most K supports per class, logits equal to
// an independent naive T3A (concatenate, per-class sort by entropy, normalised prototypes), save -> load ->
// continue gives the same logits, reset returns to the warm-up supports.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ImageSet, normalizeBatch } from "../../src/data/cifar.js";
import type { Classifier } from "../../src/models/model.js";
import { Rng, Tensor, argmax } from "../../src/tensor/index.js";
import { T3A } from "../../src/zoa/t3a.js";
import { readAdapterState, writeAdapterState } from "../../src/zoa/adapter_state_file.js";
import { maxAbsDiff } from "../helpers/close.js";
import { tinyResNet, tinyViT } from "../helpers/tiny_models.js";


/** n random 3x16x16 images (tint shifts every pixel), normalised for `model`. */
function batch(model: Classifier, n: number, seed: number, tint = 0): Tensor {
  const rng = new Rng(seed);
  const images = Uint8Array.from({ length: n * 3 * 16 * 16 }, () => Math.max(0, Math.min(255, Math.floor(rng.uniform() * 200) + tint)));
  const set: ImageSet = { images, labels: new Uint8Array(n), count: n, channels: 3, height: 16, width: 16 };
  return normalizeBatch(set, 0, n, model.mean, model.std);
}

function entropy(row: ArrayLike<number>): number {
  const max = Math.max(...Array.from(row));
  const logZ = Math.log(Array.from(row).reduce((s, v) => s + Math.exp(v - max), 0));
  return -Array.from(row).reduce((s, v) => s + Math.exp(v - max - logZ) * (v - max - logZ), 0);
}

const unit = (v: number[]): number[] => {
  const n = Math.max(Math.hypot(...v), 1e-12);
  return v.map((x) => x / n);
};

/** The reference algorithm, written plainly: one global support list, selected per class after each batch. */
function naiveT3A(model: Classifier, K: number): (x: Tensor) => number[][] {
  const W = model.params.get(`${model.headName}.weight`);
  const [C, D] = W.shape;
  const rows = (t: Tensor) => Array.from({ length: t.shape[0] }, (_, i) => Array.from(t.data.subarray(i * t.shape[1], (i + 1) * t.shape[1])));
  const warm = rows(model.headLogits(W));
  let sup = rows(W).map((z, c) => ({ z, y: c, h: Math.fround(entropy(warm[c])) }));
  return (x) => {
    const r = model.forward(x);
    const zs = rows(r.features.final);
    rows(r.logits).forEach((l, n) => sup.push({ z: zs[n], y: l.indexOf(Math.max(...l)), h: Math.fround(entropy(l)) }));
    const next: typeof sup = [];
    for (let c = 0; c < C; c++) next.push(...sup.filter((s) => s.y === c).sort((a, b) => a.h - b.h).slice(0, K));
    sup = next;
    const protos = Array.from({ length: C }, (_, c) => {
      const acc = new Array<number>(D).fill(0);
      for (const s of sup.filter((s) => s.y === c)) unit(s.z).forEach((v, d) => (acc[d] += v));
      return unit(acc);
    });
    return zs.map((z) => protos.map((p) => p.reduce((s, v, d) => s + v * z[d], 0)));
  };
}

describe.each([
  ["resnet", tinyResNet],
  ["vit", tinyViT],
] as const)("T3A on the tiny %s", (_n, make) => {
  const model = make();
  const predictor = { model };
  const data = [0, 1, 2, 3].map((i) => batch(model, 48, 10 + i, i * 20));

  it("runs one forward pass per batch and keeps at most K supports per class", () => {
    for (const K of [3, 20]) {
      const t = new T3A(predictor, { filterK: K });
      expect(t.supportCounts()).toEqual(new Array(10).fill(1));
      data.forEach((x, b) => {
        t.forward(x);
        const s = t.stats();
        expect(s.forwardPasses).toBe(b + 1);
        expect(s.batches).toBe(b + 1);
        expect(Math.max(...t.supportCounts())).toBeLessThanOrEqual(K);
      });
      const counts = t.supportCounts();
      if (K === 3) expect(Math.max(...counts)).toBe(3);
      expect(t.stats().adapterBytes).toBe(counts.reduce((a, b) => a + b, 0) * (t.prototypes().length / 10 + 2) * 4);
    }
  });

  it("predicts the argmax of an independently computed prototype classifier", () => {
    for (const K of [2, 20]) {
      const t = new T3A(predictor, { filterK: K });
      const naive = naiveT3A(model, K);
      for (const x of data) {
        const got = t.forward(x);
        const want = naive(x);
        expect(maxAbsDiff(got.data, Float32Array.from(want.flat()))).toBeLessThan(1e-4);
        expect(Array.from(argmax(got, 1))).toEqual(want.map((l) => l.indexOf(Math.max(...l))));
      }
    }
  });

  it("save -> load -> continue gives the same logits as not stopping", () => {
    const straight = new T3A(predictor, { filterK: 5 });
    const expected = data.map((x) => Array.from(straight.forward(x).data));
    const first = new T3A(predictor, { filterK: 5 });
    for (const x of data.slice(0, 2)) first.forward(x);
    const file = join(mkdtempSync(join(tmpdir(), "t3a-")), "t3a.safetensors");
    writeAdapterState(file, first.save());
    const resumed = new T3A(predictor, { filterK: 5 });
    resumed.load(readAdapterState(file));
    expect(resumed.supportCounts()).toEqual(first.supportCounts());
    expect(data.slice(2).map((x) => Array.from(resumed.forward(x).data))).toEqual(expected.slice(2));
  });

  it("reset returns to the warm-up supports", () => {
    const t = new T3A(predictor);
    const first = Array.from(t.forward(data[0]).data);
    t.forward(data[1]);
    t.reset();
    expect(t.stats().forwardPasses).toBe(0);
    expect(Array.from(t.forward(data[0]).data)).toEqual(first);
  });

  it("can take pseudo-labels from the prototypes instead of the head (still one pass per batch)", () => {
    const t = new T3A(predictor, { filterK: 4, pseudoLabels: "prototypes" });
    for (const x of data) t.forward(x);
    expect(t.stats().forwardPasses).toBe(data.length);
    expect(Math.max(...t.supportCounts())).toBeLessThanOrEqual(4);
  });
});
