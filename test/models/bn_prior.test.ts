// ForwardOptions.bnPrior / onBnStats (BatchNorm with batch statistics): the reported statistics are the batch's own
// (batchStats of each BN input, checked on the stem against a naive loop), a prior with weight 0 or equal to the
// batch's statistics changes nothing, and weight 1 with the running statistics as prior is the running-mode forward.
import { describe, expect, it } from "vitest";
import { normalizeBatch } from "../../src/data/cifar.js";
import type { BnMoments, BnPrior } from "../../src/models/model.js";
import { conv2d } from "../../src/tensor/ops/conv.js";
import { randomImages, tinyResNet } from "../helpers/tiny_models.js";

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("BatchNorm prior and reported statistics (tiny ResNet, layer by layer)", () => {
  const model = tinyResNet();
  const x = normalizeBatch(randomImages(8, 21, 30), 0, 8, model.mean, model.std);
  const seen = new Map<string, BnMoments>();
  const batch = model.forward(x, { bnStats: "batch", onBnStats: (n, m) => seen.set(n, m) });

  it("reports every BN layer once, the stem's equal to a naive mean / biased variance of its conv output", () => {
    expect([...seen.keys()]).toEqual(model.normLayers.map((l) => l.name));
    const y = conv2d(x, model.params.get("conv1.weight"), null, { stride: 1, padding: 1 });
    const [N, C, H, W] = y.shape;
    const m = seen.get("bn1") as BnMoments;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < H * W; i++) s += y.data[(n * C + c) * H * W + i];
      const mean = s / (N * H * W);
      let v = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < H * W; i++) v += (y.data[(n * C + c) * H * W + i] - mean) ** 2;
      expect(Math.abs(m.mean[c] - mean)).toBeLessThan(1e-5 * (1 + Math.abs(mean)));
      expect(Math.abs(m.variance[c] - v / (N * H * W))).toBeLessThan(1e-5 * (1 + v / (N * H * W)));
    }
  });

  it("a prior equal to the batch's statistics (weight 0.5) or with weight 0 changes nothing", () => {
    for (const weight of [0.5, 0]) {
      const prior = new Map<string, BnPrior>([...seen].map(([n, m]) => [n, { ...m, weight }]));
      expect(bits(model.forward(x, { bnStats: "batch", bnPrior: prior }).logits.data)).toEqual(bits(batch.logits.data));
    }
  });

  it("weight 1 with the running statistics as prior is the running-statistics forward; weight 0.5 lies between", () => {
    const running = (w: number): Map<string, BnPrior> =>
      new Map(
        model.normLayers.map((l) => [
          l.name,
          { mean: Float64Array.from(model.params.get(`${l.name}.running_mean`).data), variance: Float64Array.from(model.params.get(`${l.name}.running_var`).data), weight: w },
        ]),
      );
    const want = model.forward(x).logits.data;
    expect(bits(model.forward(x, { bnStats: "batch", bnPrior: running(1) }).logits.data)).toEqual(bits(want));
    const half = model.forward(x, { bnStats: "batch", bnPrior: running(0.5) }).logits.data;
    expect(bits(half)).not.toEqual(bits(want));
    expect(bits(half)).not.toEqual(bits(batch.logits.data));
  });
});
