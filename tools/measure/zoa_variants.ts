// Compares ZOA configurations side by side on one continual stream (one process, shared calibration and source
// statistics). Usage: npx tsx tools/measure/zoa_variants.ts --stream /tmp/zoa-c --limit 512 [--quant w6a6]
//   [--model ../shared/models/resnet20-cifar10.safetensors] [--configs spec,lr0,noshift,momentum,grouped,sign]
//   [--exec simulated|integer] (integer: ResNets take the fused integer pipeline, ~5x faster)
import { normalizeBatch, readCifar } from "../../src/data/cifar.js";
import { continualStream } from "../../src/data/stream.js";
import { loadModel } from "../../src/models/load.js";
import { calibrateModel, quantConfig, type QuantPreset } from "../../src/quant/ptq.js";
import { QuantizedModel } from "../../src/quant/qmodel.js";
import type { Adapter } from "../../src/zoa/adapter.js";
import { NormAdapt } from "../../src/zoa/baselines.js";
import { sourceStatistics } from "../../src/zoa/features.js";
import { runStream } from "../../src/zoa/runner.js";
import { zoaVariantConfig, type ZoaVariantName } from "../../src/zoa/variants.js";
import { type ZoaConfig, Zoa, zoaSpecConfig } from "../../src/zoa/zoa.js";

const argv = process.argv.slice(2);
const flag = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const shared = flag("shared", "../shared");
const modelFile = flag("model", `${shared}/models/resnet20-cifar10.safetensors`);
const quant = flag("quant", "w6a6");
const limit = Number(flag("limit", "512"));
const configs = flag("configs", "spec,lr0,noshift,momentum").split(",");

const model = loadModel(modelFile);
const calib = readCifar(`${shared}/data/cifar10/data_batch_1.bin`, 1024);
let layers;
let bits: number | null = null;
if (quant !== "fp32") {
  const cfg = quantConfig(quant as QuantPreset);
  const q = new QuantizedModel(model, cfg, calibrateModel(model, normalizeBatch(calib, 0, 32, model.mean, model.std), cfg));
  layers = flag("exec", "simulated") === "integer" ? q.integer : q.simulated;
  bits = cfg.abits;
}
const predictor = { model, layers };
const source = sourceStatistics(predictor, calib, 1024);
const sourceBatch = sourceStatistics(predictor, calib, 1024, 64, "batch");
const spec = zoaSpecConfig(model, bits);

/** Named ZOA configurations (the variants of src/zoa/variants.ts plus diagnostics). */
function config(name: string): ZoaConfig {
  const [base, ...mods] = name.split("+");
  let c: ZoaConfig;
  if (base === "lr0") c = { ...spec, lr: 0 };
  else if (base === "noshift") c = { ...spec, activationShift: false };
  else c = zoaVariantConfig(base as ZoaVariantName, spec, model.kind); // a new object: the modifiers below never touch spec
  for (const m of mods) {
    const [k, v] = m.split("=");
    (c as unknown as Record<string, number | boolean | string>)[k] = v === "true" ? true : v === "false" ? false : Number.isNaN(Number(v)) ? v : Number(v);
  }
  return c;
}

function named(name: string, a: Adapter): Adapter {
  return { name, predictor: a.predictor, forward: (x) => a.forward(x), reset: () => a.reset(), stats: () => a.stats(), save: () => a.save(), load: (s) => a.load(s) };
}

// A "srcbatch:" prefix uses source statistics computed with batch-statistics BatchNorm.
const adapters: Adapter[] = [
  ...(flag("norm", "true") === "false" ? [] : [new NormAdapt(predictor)]),
  ...configs.map((c) => (c.startsWith("srcbatch:") ? named(c, new Zoa(predictor, sourceBatch, config(c.slice(9)))) : named(c, new Zoa(predictor, source, config(c))))),
];
let last = "";
const report = runStream(adapters, continualStream({ kind: "dir", dir: flag("stream", "/tmp/zoa-c") }, { limitPerDomain: limit, seed: 0 }), {
  onBatch: (b, acc) => {
    if (b.domain !== last) {
      last = b.domain;
      process.stderr.write(`${b.domain}\n`);
    }
    void acc;
  },
});
console.log(`${modelFile} ${quant}, ${limit}/domain`);
for (const [n, m] of Object.entries(report.methods)) {
  console.log(`${n.padEnd(28)} mean ${m.mean.toFixed(2)}  ${Object.values(m.perDomain).map((v) => v.toFixed(1)).join(" ")}  ${JSON.stringify(m.extra)}`);
}
