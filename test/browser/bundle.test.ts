// The browser entry (src/browser.ts): it bundles for platform "browser" with no externals, so no Node module is
// reachable from it (the same esbuild options as tools/build.mjs, which fail on any node: import), and its
// bytes-in / bytes-out helpers agree with the Node file API (the oracle): a model built from safetensors bytes
// (float or quantized) gives the logits of the model the bytes came from, and a ZOA state serialised to bytes is the file
// writeAdapterState writes, and loads back to the same bank.
import { build } from "esbuild";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  QuantizedModel,
  adapterStateFromBytes,
  adapterStateToBytes,
  calibrateModel,
  modelFromBytes,
  normalizeBatch,
  quantConfig,
  quantizedModelFromBytes,
  quantizedModelTensors,
  serializeSafetensors,
  sourceStatistics,
  Zoa,
  zoaSpecConfig,
} from "../../src/browser.js";
import { writeAdapterState } from "../../src/zoa/adapter_state_file.js";
import { randomImages, tinyResNet } from "../helpers/tiny_models.js";

const BROWSER_BUILD = { bundle: true, platform: "browser", format: "esm", target: "es2022", write: false, logLevel: "silent", metafile: true } as const;

describe("browser bundle", () => {
  it("bundles src/browser.ts for the browser without any of the Node file modules", async () => {
    const r = await build({ ...BROWSER_BUILD, entryPoints: ["src/browser.ts"], outfile: "zoa.js" });
    expect(r.errors).toEqual([]);
    const inputs = Object.keys(r.metafile.inputs);
    for (const nodeOnly of ["src/io/safetensors.ts", "src/data/cifar.ts", "src/models/load.ts", "src/data/corruptions/index.ts", "src/data/corruptions/frost_files.ts", "src/zoa/adapter_state_file.ts", "src/quant/qio.ts"]) {
      expect(inputs).not.toContain(nodeOnly);
    }
    expect(inputs.some((p) => p.startsWith("node_modules/pngjs"))).toBe(false);
  });

  it("fails with these options when a Node import is reachable (the guard of tools/build.mjs)", async () => {
    const entry = join(mkdtempSync(join(tmpdir(), "zoa-bundle-")), "entry.ts");
    const bad = `export { readCifar } from ${JSON.stringify(join(process.cwd(), "src/data/cifar.ts"))};\n`;
    await expect(build({ ...BROWSER_BUILD, stdin: { contents: bad, loader: "ts", sourcefile: entry, resolveDir: process.cwd() }, outfile: "x.js" })).rejects.toThrow(/node:fs/);
  });
});

describe("browser API: bytes in, bytes out", () => {
  const model = tinyResNet();
  const tensors = Object.fromEntries(model.params.names().map((n) => {
    const t = model.params.get(n);
    return [n, { dtype: "F32" as const, shape: t.shape, data: Float32Array.from(t.data) }];
  }));
  const bytes = serializeSafetensors(tensors, { mean: JSON.stringify(model.mean), std: JSON.stringify(model.std) });
  const set = randomImages(64, 3);
  const x = normalizeBatch(set, 0, 64, model.mean, model.std);

  it("modelFromBytes (Uint8Array or ArrayBuffer) gives the logits of the model the bytes were written from", () => {
    const want = model.forward(x).logits.data;
    const fromView = modelFromBytes(bytes, "tiny.safetensors");
    const fromBuffer = modelFromBytes(bytes.slice().buffer, "tiny.safetensors");
    expect(fromView.kind).toBe("cifar_resnet");
    expect(Array.from(fromView.forward(x).logits.data)).toEqual(Array.from(want));
    expect(Array.from(fromBuffer.forward(x).logits.data)).toEqual(Array.from(want));
  });

  it("quantizedModelFromBytes restores a quantized model: the same integer logits as the model that was encoded", () => {
    const cfg = quantConfig("w6a6");
    const q = new QuantizedModel(model, cfg, calibrateModel(model, x, cfg));
    const { tensors: qt, metadata } = quantizedModelTensors(q, { mean: JSON.stringify(model.mean), std: JSON.stringify(model.std) });
    const back = quantizedModelFromBytes(serializeSafetensors(qt, metadata), "q.safetensors");
    expect(back.config.abits).toBe(6);
    expect(Array.from(back.forward(x, { exec: "integer" }).logits.data)).toEqual(Array.from(q.forward(x, { exec: "integer" }).logits.data));
  });

  it("modelFromBytes names the source in its error", () => {
    expect(() => modelFromBytes(new Uint8Array(4), "picked.safetensors")).toThrow(/picked\.safetensors/);
  });

  it("adapterStateToBytes is the file writeAdapterState writes; adapterStateFromBytes restores the bank", () => {
    const predictor = { model };
    const source = sourceStatistics(predictor, randomImages(64, 7), 64);
    const cfg = zoaSpecConfig(model, null, { lr: 5e-2, threshold: 0.05, seed: 5 });
    const z = new Zoa(predictor, source, cfg);
    for (const tint of [0, 80]) z.forward(normalizeBatch(randomImages(64, 10 + tint, tint), 0, 64, model.mean, model.std));
    expect(z.bank.slots.length).toBeGreaterThan(0);
    const state = z.save();
    const file = join(mkdtempSync(join(tmpdir(), "zoa-bank-")), "bank.safetensors");
    writeAdapterState(file, state);
    const out = adapterStateToBytes(state);
    expect(Buffer.from(out).equals(readFileSync(file))).toBe(true);
    const back = new Zoa(predictor, source, cfg);
    back.load(adapterStateFromBytes(out, "bank.safetensors"));
    expect(back.bank.slots.map((s) => s.id)).toEqual(z.bank.slots.map((s) => s.id));
    expect(back.bank.alpha).toEqual(z.bank.alpha);
    expect(back.bank.tilde.map((t) => Array.from(t))).toEqual(z.bank.tilde.map((t) => Array.from(t)));
  });
});
