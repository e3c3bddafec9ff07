// `zoa eval`: top-1 of a checkpoint on a CIFAR-10 binary file, with per-image predictions and JSON output.
import { readCifar, normalizeBatch } from "../data/cifar.js";
import { argmax } from "../tensor/ops/reduce.js";
import { getBackend } from "../tensor/backends.js";
import { type FlagSpecs, UsageError, helpText, parseFlags, required } from "./args.js";
import { requireFile, writeOutput } from "./common.js";
import { MODEL_FLAGS, prepareModel } from "./model_flags.js";
import { Progress } from "./progress.js";

const FLAGS = {
  ...MODEL_FLAGS,
  data: { kind: "string", help: "CIFAR-10 binary file (3073-byte records)" },
  limit: { kind: "int", help: "evaluate only the first N images" },
  batch: { kind: "int", default: 64, help: "batch size" },
  preds: { kind: "string", help: "write one argmax byte per image to this file" },
  json: { kind: "bool", help: "print one JSON object instead of the table" },
  compare: { kind: "bool", help: "quantized models: also run the other execution mode and report agreement and max logit difference" },
  quiet: { kind: "bool", help: "no progress bar" },
  help: { kind: "bool", help: "show this help" },
} satisfies FlagSpecs;

export interface EvalResult {
  model: string;
  data: string;
  correct: number;
  total: number;
  /** Top-1 accuracy in percent. */
  top1: number;
  /** Inference only: normalisation + forward, no loading. */
  imagesPerSecond: number;
  batch: number;
  backend: string;
  seconds: number;
  /** "fp32" or e.g. "w6a6 minmax simulated". */
  precision: string;
  calibSeconds: number;
  /** Deployed model bytes (quantized: codes bit-packed + scales + float params). */
  modelBytes: number;
  /** --compare: the other execution mode's top-1, the % of equal predictions and the max |logit difference|. */
  compare?: { mode: string; top1: number; agreement: number; maxLogitDiff: number };
}

export async function evalCommand(argv: string[]): Promise<number> {
  const f = parseFlags("eval", argv, FLAGS);
  if (f.help) {
    console.log(helpText("eval", "top-1 accuracy of a checkpoint on a CIFAR-10 binary file", FLAGS));
    return 0;
  }
  const modelFile = requireFile("eval", "model", required("eval", "model", f.model));
  const dataFile = requireFile("eval", "data", required("eval", "data", f.data));
  const batch = f.batch ?? 64;
  if (batch < 1) throw new UsageError(`zoa eval: --batch must be >= 1, got ${batch}`);
  if (f.limit !== undefined && f.limit < 1) throw new UsageError(`zoa eval: --limit must be >= 1, got ${f.limit}`);
  const prepared = prepareModel("eval", f, (m) => {
    if (!f.quiet) process.stderr.write(`${m}\n`);
  });
  const { model, layers } = prepared;
  const backend = getBackend();
  const set = readCifar(dataFile, f.limit);
  if (set.height !== model.imageSize) {
    throw new UsageError(`zoa eval: ${dataFile} has ${set.height}x${set.width} images but ${modelFile} expects ${model.imageSize}x${model.imageSize}`);
  }
  if (f.compare && !prepared.quantized) throw new UsageError("zoa eval: --compare needs a quantized model (--quant or a quantized file)");
  const otherMode = (f.exec ?? "simulated") === "integer" ? "simulated" : "integer";
  const otherLayers = f.compare && prepared.quantized ? prepared.quantized.layerOps(otherMode) : undefined;
  let agree = 0;
  let otherCorrect = 0;
  let maxLogitDiff = 0;
  const preds = new Uint8Array(set.count);
  let correct = 0;
  const progress = new Progress("eval", set.count, !f.quiet);
  let compute = 0;
  for (let start = 0; start < set.count; start += batch) {
    const n = Math.min(batch, set.count - start);
    const t0 = performance.now();
    const x = normalizeBatch(set, start, n, model.mean, model.std);
    const logits = model.forward(x, { layers }).logits;
    const p = argmax(logits, 1);
    compute += performance.now() - t0;
    for (let i = 0; i < n; i++) {
      preds[start + i] = p[i];
      if (p[i] === set.labels[start + i]) correct++;
    }
    if (otherLayers) {
      const other = model.forward(x, { layers: otherLayers }).logits;
      const q = argmax(other, 1);
      for (let i = 0; i < n; i++) {
        if (q[i] === p[i]) agree++;
        if (q[i] === set.labels[start + i]) otherCorrect++;
      }
      for (let i = 0; i < logits.size; i++) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(logits.data[i] - other.data[i]));
    }
    progress.update(start + n, `top-1 ${((100 * correct) / (start + n)).toFixed(2)}%`);
  }
  const res: EvalResult = {
    model: modelFile,
    data: dataFile,
    correct,
    total: set.count,
    top1: set.count ? (100 * correct) / set.count : 0,
    imagesPerSecond: compute > 0 ? set.count / (compute / 1000) : 0,
    batch,
    backend: backend.name,
    seconds: compute / 1000,
    precision: prepared.label,
    calibSeconds: prepared.calibSeconds,
    modelBytes: prepared.quantized ? prepared.quantized.memoryBytes().total : model.params.count() * 4,
    ...(otherLayers
      ? { compare: { mode: otherMode, top1: (100 * otherCorrect) / set.count, agreement: (100 * agree) / set.count, maxLogitDiff } }
      : {}),
  };
  if (f.preds) writeOutput("eval", "preds", f.preds, preds, [modelFile, dataFile, ...(f.calib ? [f.calib] : [])]);
  if (f.json) console.log(JSON.stringify(res));
  else {
    console.log(`model    ${modelFile} (${model.kind}, ${(model.params.count() / 1e6).toFixed(2)}M params)`);
    console.log(`precision ${prepared.label}, ${(res.modelBytes / 1024).toFixed(1)} KiB${prepared.calibSeconds ? `, calibrated in ${prepared.calibSeconds.toFixed(1)}s` : ""}`);
    console.log(`data     ${dataFile} (${set.count} images)`);
    console.log(`top-1    ${res.top1.toFixed(2)}% (${correct}/${set.count})`);
    console.log(`speed    ${res.imagesPerSecond.toFixed(1)} images/s (batch ${batch}, backend ${backend.name}, inference only)`);
    if (f.preds) console.log(`preds    ${f.preds}`);
    if (res.compare) {
      console.log(`${res.compare.mode.padEnd(8)} top-1 ${res.compare.top1.toFixed(2)}%, same prediction on ${res.compare.agreement.toFixed(2)}% of images, max |logit difference| ${res.compare.maxLogitDiff.toExponential(3)}`);
    }
  }
  return 0;
}
