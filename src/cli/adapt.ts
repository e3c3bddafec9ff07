// `zoa adapt`: test-time adaptation methods side by side on one continual corruption stream.
import { readCifar } from "../data/cifar.js";
import { CORRUPTIONS, type CorruptionName, isCorruptionName } from "../data/corruptions/index.js";
import { type StreamSource, checkStreamDir } from "../data/stream.js";
import { sourceStatistics } from "../zoa/features.js";
import { DEFAULT_ZOA_VARIANT, ZOA_VARIANTS, type ZoaVariantName } from "../zoa/variants.js";
import { Zoa } from "../zoa/zoa.js";
import { readAdapterState, writeAdapterState } from "../zoa/adapter_state_file.js";
import { type FlagSpecs, UsageError, helpText, parseFlags } from "./args.js";
import { type AdaptMeta, adaptJson, createAdapters, parseMethods, runWithProgress } from "./adapt_run.js";
import { requireFile, writeOutput } from "./common.js";
import { MODEL_FLAGS, prepareModel } from "./model_flags.js";
import { reportMarkdown, reportTable } from "./report.js";
import { existsSync, statSync } from "node:fs";

const FLAGS = {
  ...MODEL_FLAGS,
  method: { kind: "string", default: "zoa", help: "zoa|foa|t3a|norm|none|tent (tent: backprop baseline; on a quantized model through the fake-quant forward with a straight-through estimator)" },
  methods: { kind: "string", help: "several methods side by side, e.g. none,norm,zoa (overrides --method)" },
  stream: { kind: "string", help: "directory of <corruption>-s<severity>.bin files (zoa corrupt writes them)" },
  data: { kind: "string", help: "clean CIFAR-10 binary file, corrupted on the fly (instead of --stream)" },
  severity: { kind: "int", default: 5, help: "corruption severity 1..5" },
  corruptions: { kind: "string", default: "all", help: "all, or a comma list in stream order" },
  frost: { kind: "string", help: "frost texture directory (on-the-fly corruption)" },
  "limit-per-domain": { kind: "int", help: "first N images of each corruption" },
  rounds: { kind: "int", default: 1, help: "passes over the 15 corruptions" },
  batch: { kind: "int", default: 64, help: "batch size" },
  seed: { kind: "int", default: 0, help: "seed of the shuffles and of the perturbations" },
  "source-n": { kind: "int", default: 1024, help: "clean images (first N of --calib) for the source statistics" },
  "zoa-variant": { kind: "string", default: DEFAULT_ZOA_VARIANT, help: `ZOA configuration: ${ZOA_VARIANTS.join("|")}` },
  "max-slots": { kind: "int", default: 32, help: "ZOA bank bound (slots)" },
  "max-bank-bytes": { kind: "int", help: "ZOA bank bound (bytes)" },
  "bank-in": { kind: "string", help: "load a ZOA state (safetensors) before the stream" },
  "bank-out": { kind: "string", help: "save the ZOA state after the stream" },
  json: { kind: "bool", help: "print one JSON object {methods: {...}}" },
  report: { kind: "string", help: "write a Markdown report" },
  quiet: { kind: "bool", help: "no progress output" },
  help: { kind: "bool", help: "show this help" },
} satisfies FlagSpecs;

export async function adaptCommand(argv: string[]): Promise<number> {
  const f = parseFlags("adapt", argv, FLAGS);
  if (f.help) {
    console.log(helpText("adapt", "test-time adaptation over a continual corruption stream", FLAGS));
    return 0;
  }
  const log = (m: string) => {
    if (!f.quiet) process.stderr.write(`${m}\n`);
  };
  const methods = parseMethods("adapt", f.methods ?? f.method ?? "zoa");
  const variant = f["zoa-variant"] as ZoaVariantName;
  if (!ZOA_VARIANTS.includes(variant)) throw new UsageError(`zoa adapt: --zoa-variant must be one of ${ZOA_VARIANTS.join(", ")}`);
  if (!f.stream === !f.data) throw new UsageError("zoa adapt: give exactly one of --stream DIR or --data FILE");
  if (!f.calib) throw new UsageError("zoa adapt: --calib FILE is required (clean images for calibration and source statistics)");
  const severity = f.severity ?? 5;
  if (severity < 1 || severity > 5) throw new UsageError(`zoa adapt: --severity must be 1..5, got ${severity}`);
  const corruptions = f.corruptions === "all" || !f.corruptions ? [...CORRUPTIONS] : f.corruptions.split(",");
  for (const c of corruptions) if (!isCorruptionName(c)) throw new UsageError(`zoa adapt: unknown corruption '${c}' (valid: ${CORRUPTIONS.join(", ")})`);
  if (f["bank-out"] && !methods.includes("zoa")) throw new UsageError("zoa adapt: --bank-out needs the zoa method");
  if (f["bank-in"]) requireFile("adapt", "bank-in", f["bank-in"]);
  let source: StreamSource;
  let perDomain: number;
  if (f.stream) {
    if (!existsSync(f.stream) || !statSync(f.stream).isDirectory()) throw new UsageError(`zoa adapt: --stream ${f.stream}: no such directory`);
    checkStreamDir(f.stream, severity, corruptions as CorruptionName[]);
    source = { kind: "dir", dir: f.stream };
    perDomain = readCifar(`${f.stream}/${corruptions[0]}-s${severity}.bin`).count;
  } else {
    const set = readCifar(requireFile("adapt", "data", f.data as string));
    source = { kind: "clean", set, corruptSeed: f.seed ?? 0, corrupt: f.frost ? { frostDir: f.frost } : {} };
    perDomain = set.count;
  }

  const prepared = prepareModel("adapt", f, log);
  const predictor = { model: prepared.model, layers: prepared.layers };
  log(`model ${f.model} (${prepared.label}); source statistics from ${f["source-n"]} clean images...`);
  const calibSet = readCifar(requireFile("adapt", "calib", f.calib), f["source-n"]);
  const sourceStats = sourceStatistics(predictor, calibSet, f["source-n"] ?? 1024);
  const bits = prepared.quantized ? prepared.quantized.config.abits : null;
  const adapters = createAdapters(methods, {
    predictor,
    source: sourceStats,
    bits,
    seed: f.seed ?? 0,
    zoaVariant: variant,
    zoa: { maxSlots: f["max-slots"] ?? 32, maxBytes: f["max-bank-bytes"] },
  });
  const zoa = adapters.find((a): a is Zoa => a instanceof Zoa);
  if (f["bank-in"] && zoa) zoa.load(readAdapterState(f["bank-in"]));
  const streamOpts = { severity, rounds: f.rounds ?? 1, batchSize: f.batch ?? 64, seed: f.seed ?? 0, limitPerDomain: f["limit-per-domain"], corruptions: corruptions as CorruptionName[] };
  const report = runWithProgress(adapters, { source, stream: streamOpts, perDomain, quiet: f.quiet });
  if (f["bank-out"] && zoa) writeAdapterState(f["bank-out"], zoa.save());
  const meta: AdaptMeta = { model: f.model as string, precision: prepared.label, severity, rounds: streamOpts.rounds, batch: streamOpts.batchSize, seed: streamOpts.seed, zoaVariant: variant, limitPerDomain: f["limit-per-domain"] ?? null, images: report.images };
  if (f.report) writeOutput("adapt", "report", f.report, reportMarkdown(report, meta), [f.model as string, f.calib, ...(f.data ? [f.data] : [])]);
  if (f.json) console.log(JSON.stringify(adaptJson(meta, report)));
  else console.log(reportTable(report, meta));
  return 0;
}

