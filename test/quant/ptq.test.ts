// Model-level PTQ on the tiny deterministic models: structure of the quantized model, simulated vs integer
// execution, bits, memory, and the safetensors round trip.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LayerOps } from "../../src/models/layers.js";
import type { Classifier } from "../../src/models/model.js";
import { calibrateModel, quantConfig } from "../../src/quant/ptq.js";
import { loadQuantizedModel, saveQuantizedModel } from "../../src/quant/qio.js";
import { QuantizedModel } from "../../src/quant/qmodel.js";
import { Tensor, argmax } from "../../src/tensor/index.js";
import { maxAbsDiff } from "../helpers/close.js";
import { detInput } from "../helpers/detweights.js";
import { tinyResNet, tinyViT } from "../helpers/tiny_models.js";

/**
 * Runs the simulated model, and at every quantized layer also runs the integer op on the same input: outputs must
 * agree to float rounding plus the int32 bias rounding (half a bias step, sA * sW / 2 per output).
 */
function expectLayerwiseEqual(model: Classifier, q: QuantizedModel, x: Tensor): void {
  const check = (name: string, sim: Tensor, int: Tensor) => {
    const scale = Math.max(1e-6, ...Array.from(sim.data, Math.abs));
    expect(maxAbsDiff(sim.data, int.data) / scale, name).toBeLessThan(1e-4);
  };
  const probe: LayerOps = {
    conv2d: (n, xi, w, b, o) => {
      const s = q.simulated.conv2d(n, xi, w, b, o);
      check(n, s, q.integer.conv2d(n, xi, w, b, o));
      return s;
    },
    linear: (n, xi, w, b) => {
      const s = q.simulated.linear(n, xi, w, b);
      check(n, s, q.integer.linear(n, xi, w, b));
      return s;
    },
    matmul: (n, a, b, o) => {
      const s = q.simulated.matmul(n, a, b, o);
      check(n, s, q.integer.matmul(n, a, b, o));
      return s;
    },
  };
  model.forward(x, { layers: probe });
}

const resnet = tinyResNet();
const vit = tinyViT();
const calib = new Tensor([8, 3, 16, 16], detInput([8, 3, 16, 16]));
const test = new Tensor([8, 3, 16, 16], detInput([8, 3, 16, 16]).map((v, i) => v * 0.9 + Math.sin(i) * 0.1));

describe.each([
  ["cifar resnet", resnet],
  ["vit", vit],
] as const)("PTQ of the tiny %s", (_n, model) => {
  it("quantizes every conv / linear / matmul with edge layers at 8 bits", () => {
    const q = new QuantizedModel(model, quantConfig("w4a4"), calibrateModel(model, calib, quantConfig("w4a4")));
    expect([...q.weights.keys()]).toEqual(model.weightLayers);
    expect([...q.matmuls.keys()]).toEqual(model.matmulLayers);
    const bits = [...q.weights.values()].map((l) => l.weight.bits);
    expect(bits[0]).toBe(8);
    expect(bits.at(-1)).toBe(8);
    expect(bits.slice(1, -1).every((b) => b === 4)).toBe(true);
    for (const l of q.weights.values()) {
      const lim = 2 ** (l.weight.bits - 1) - 1;
      expect(l.weight.data.every((c) => c >= -lim && c <= lim)).toBe(true);
      expect(l.weight.axis).toBe(0);
    }
  });

  it("W8A8: each integer layer equals its simulated twin on the same input; predictions agree end to end", () => {
    const cfg = quantConfig("w8a8");
    const q = new QuantizedModel(model, cfg, calibrateModel(model, calib, cfg));
    expectLayerwiseEqual(model, q, test);
    const sim = q.forward(test, { exec: "simulated" }).logits;
    const int = q.forward(test, { exec: "integer" }).logits;
    // End to end, float rounding differences flip a few activation codes by 1 LSB and the flips propagate.
    const ps = argmax(sim, 1);
    const pi = argmax(int, 1);
    expect(ps.filter((p, i) => p === pi[i]).length).toBeGreaterThanOrEqual(7);
    expect(maxAbsDiff(sim.data, model.forward(test).logits.data)).toBeGreaterThan(0);
  });

  it("search calibration with output MSE and (ViT) twin-uniform runs and stays close to float at W8A8", () => {
    const cfg = quantConfig("w8a8", { method: "search", searchImages: 4, alphas: [0.6, 0.8, 1] });
    const q = new QuantizedModel(model, cfg, calibrateModel(model, calib, cfg));
    const float = model.forward(test).logits;
    const sim = q.forward(test).logits;
    const scale = Math.max(...Array.from(float.data, Math.abs));
    expect(maxAbsDiff(sim.data, float.data) / scale).toBeLessThan(0.1);
    if (model.kind === "vit") {
      expect(q.weights.get("blocks.0.mlp.fc2")?.input.kind).toBe("twin");
      expect(q.matmuls.get("blocks.0.attn.av")?.a.kind).toBe("twin");
      expectLayerwiseEqual(model, q, test);
    }
  });

  it("saves and loads to the same logits, in both modes, and reports a smaller size", () => {
    const cfg = quantConfig("w6a6");
    const q = new QuantizedModel(model, cfg, calibrateModel(model, calib, cfg));
    const file = join(mkdtempSync(join(tmpdir(), "zoa-q-")), "q.safetensors");
    const meta: Record<string, string> = model.kind === "vit" ? { num_heads: "2", img_size: "16" } : { img_size: "16" };
    saveQuantizedModel(file, q, meta);
    const back = loadQuantizedModel(file);
    for (const exec of ["simulated", "integer"] as const) {
      expect(back.forward(test, { exec }).logits.data).toEqual(q.forward(test, { exec }).logits.data);
    }
    const mem = q.memoryBytes();
    expect(mem.total).toBeLessThan(model.params.count() * 4);
    expect(mem.weightCodes).toBe([...q.weights.values()].reduce((s, l) => s + Math.ceil((l.weight.data.length * l.weight.bits) / 8), 0));
  });
});
