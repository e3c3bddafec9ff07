// `zoa demo`: the project in one command. The demo models shipped in models/ (trained from scratch on the
// procedural task by tools/train/train_demo.ts) are quantized, then NoAdapt, NormAdapt, T3A, FOA and ZOA run side
// by side over the 15 corruptions of the procedural test set; the tables go to stdout (`--json`: one
// `zoa adapt --json` object per run, one per line) and an HTML report to --html. `--cifar` (or --model/--data)
// switches to CIFAR-10 and the pretrained checkpoints of the shared folder.
import { cpus, loadavg } from "node:os";
import { existsSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { DEFAULT_ZOA_VARIANT, ZOA_VARIANTS, type ZoaVariantName } from "../zoa/variants.js";
import { adaptJson, parseMethods } from "./adapt_run.js";
import { DEFAULT_BACKEND } from "./model_flags.js";
import { type FlagSpecs, UsageError, helpText, parseFlags } from "./args.js";
import { requireFile, writeOutput } from "./common.js";
import { type DemoData, cifarData, proceduralData } from "./demo_data.js";
import { type DemoRun, type DemoRunSpec, type DemoSettings, runDemo } from "./demo_run.js";
import { demoHtml } from "./html_report.js";
import { demoModelsDir } from "./package_root.js";
import { reportTable } from "./report.js";

/**
 * Defaults sized so `npm ci && npx zoa demo` takes under 3 minutes on 2 cores (README, issue 7): one batch of 64
 * per corruption (ZOA's shift detector needs full batches of 64 to save bank slots), and FOA, whose 28 forward
 * passes per batch would otherwise take a third of the time, on 8 images per corruption in one run.
 */
const DEFAULT_LIMIT = 64;
const DEFAULT_FOA_LIMIT = 8;
const DEFAULT_QUANT: Record<Slot, string[]> = { resnet: ["w8a8", "w6a6"], vit: ["w6a6"] };
const DEFAULT_CALIB_METHOD: Record<Slot, string> = { resnet: "minmax", vit: "search" };
const DEMO_FILES: Record<Slot, string> = { resnet: "demo_resnet8.safetensors", vit: "demo_vit.safetensors" };
const SHARED_FILES: Record<Slot, string> = { resnet: "models/resnet20-cifar10.safetensors", vit: "models/vit-tiny-cifar10.safetensors" };

type Slot = "resnet" | "vit";
const SLOTS: readonly Slot[] = ["resnet", "vit"];

const FLAGS = {
  model: { kind: "string", help: "ResNet checkpoint (default: the package's models/demo_resnet8.safetensors; --cifar: shared ResNet-20)" },
  "vit-model": { kind: "string", help: "ViT checkpoint (default: models/demo_vit.safetensors; --cifar: shared CIFAR ViT)" },
  models: { kind: "string", help: "which to run: resnet,vit (default: both; with --data/--cifar resnet; else the ones given by --model/--vit-model)" },
  cifar: { kind: "bool", help: "CIFAR-10 test/train files and pretrained checkpoints from $ZOA_SHARED (default ../shared)" },
  data: { kind: "string", help: "CIFAR-10 binary test file to corrupt and stream (instead of the procedural images)" },
  calib: { kind: "string", help: "CIFAR-10 binary file of clean training images (calibration, source statistics), with --data" },
  frost: { kind: "string", help: "frost texture directory (default: procedural stand-in; --cifar: shared data/frost)" },
  quant: { kind: "string", help: "precisions, comma list of w8a8|w6a6|w4a4|fp32 (default: ResNet w8a8,w6a6; ViT w6a6)" },
  methods: { kind: "string", default: "none,norm,t3a,foa,zoa", help: "methods side by side (norm is skipped on a ViT)" },
  severity: { kind: "int", default: 5, help: "corruption severity 1..5" },
  "limit-per-domain": { kind: "int", default: DEFAULT_LIMIT, help: "images per corruption" },
  foa: { kind: "string", default: "one", help: "where FOA runs (28 forward passes per batch): one (the first model's last precision), all, none" },
  "foa-limit": { kind: "int", default: DEFAULT_FOA_LIMIT, help: "images per corruption for FOA" },
  batch: { kind: "int", default: 64, help: "batch size" },
  seed: { kind: "int", default: 0, help: "seed of the corruptions, shuffles and perturbations" },
  "source-n": { kind: "int", default: 256, help: "clean training images for the source statistics" },
  "calib-n": { kind: "int", default: 32, help: "clean training images for calibration" },
  "calib-method": { kind: "string", help: "minmax|percentile|search (default: ResNet minmax, ViT search)" },
  exec: { kind: "string", default: "simulated", help: "quantized execution: simulated | integer" },
  "edge-bits": { kind: "int", default: 8, help: "bits of the first conv and last linear (0: same as the rest)" },
  backend: { kind: "string", default: DEFAULT_BACKEND, help: "$ZOA_BACKEND or auto; auto|simd|cpu|reference|gpujs (simd where available)" },
  "zoa-variant": { kind: "string", default: DEFAULT_ZOA_VARIANT, help: `ZOA configuration: ${ZOA_VARIANTS.join("|")}` },
  html: { kind: "string", default: "zoa-demo-report.html", help: "HTML report file" },
  "no-html": { kind: "bool", help: "write no HTML report" },
  json: { kind: "bool", help: "print one `zoa adapt --json` object per run, one per line" },
  quiet: { kind: "bool", help: "no progress output" },
  help: { kind: "bool", help: "show this help" },
} satisfies FlagSpecs;

type Flags = ReturnType<typeof parseFlags<typeof FLAGS>>;

interface Plan {
  runs: DemoRunSpec[];
  data: DemoData;
  frostDir?: string;
  inputs: string[];
}

function existingFile(flag: string, file: string): string {
  return requireFile("demo", flag, file);
}

/** Models, precisions and data from the flags. */
function plan(f: Flags): Plan {
  const shared = f.cifar ? resolve(process.env.ZOA_SHARED ?? "../shared") : null;
  if (shared && !existsSync(shared)) throw new UsageError(`zoa demo: --cifar: shared folder ${shared} not found (set ZOA_SHARED)`);
  const dataFile = f.data ?? (shared ? join(shared, "data/cifar10/test_batch.bin") : undefined);
  let data: DemoData;
  const inputs: string[] = [];
  if (dataFile) {
    const calib = f.calib ?? (shared ? join(shared, "data/cifar10/data_batch_1.bin") : undefined);
    if (!calib) throw new UsageError("zoa demo: --data needs --calib FILE (clean CIFAR-10 training images) or --cifar");
    data = cifarData(existingFile("data", dataFile), existingFile("calib", calib));
    inputs.push(dataFile, calib);
  } else {
    if (f.calib) throw new UsageError("zoa demo: --calib goes with --data (the procedural demo calibrates on generated images)");
    data = proceduralData();
  }
  const given: Record<Slot, string | undefined> = { resnet: f.model, vit: f["vit-model"] };
  const pathOf = (slot: Slot): string => {
    const g = given[slot];
    if (g) return existingFile(slot === "resnet" ? "model" : "vit-model", g);
    if (shared) return existingFile(slot === "resnet" ? "model" : "vit-model", join(shared, SHARED_FILES[slot]));
    if (dataFile) throw new UsageError(`zoa demo: --data needs --${slot === "resnet" ? "model" : "vit-model"} (a CIFAR-10 checkpoint) or --cifar`);
    const dir = demoModelsDir();
    const file = dir ? join(dir, DEMO_FILES[slot]) : DEMO_FILES[slot];
    if (!existsSync(file)) throw new UsageError(`zoa demo: demo model ${file} not found (it ships in the package's models/ folder; or pass --${slot === "resnet" ? "model" : "vit-model"})`);
    return file;
  };
  let slots: Slot[];
  if (f.models) {
    slots = f.models.split(",").map((s) => s.trim()).filter(Boolean) as Slot[];
    for (const s of slots) if (!SLOTS.includes(s)) throw new UsageError(`zoa demo: --models takes resnet and/or vit, got '${s}'`);
  } else if (given.resnet || given.vit) slots = SLOTS.filter((s) => given[s]);
  else slots = dataFile ? ["resnet"] : [...SLOTS];
  const quants = f.quant?.split(",").map((q) => q.trim()).filter(Boolean);
  if (quants && quants.length === 0) throw new UsageError("zoa demo: --quant is empty");
  const foa = f.foa ?? "one";
  if (!["one", "all", "none"].includes(foa)) throw new UsageError(`zoa demo: --foa must be one, all or none, got '${foa}'`);
  const runs: DemoRunSpec[] = [];
  for (const slot of slots) {
    const file = pathOf(slot);
    inputs.push(file);
    const shown = relative(process.cwd(), file);
    const list = quants ?? DEFAULT_QUANT[slot];
    list.forEach((quant, i) => {
      runs.push({
        label: `${basename(file).replace(/\.safetensors$/, "")} ${quant}`,
        modelFile: shown.startsWith("..") ? file : shown,
        quant,
        calibMethod: f["calib-method"] ?? DEFAULT_CALIB_METHOD[slot],
        foa: foa === "all" || (foa === "one" && slot === slots[0] && i === list.length - 1),
      });
    });
  }
  let frostDir = f.frost;
  if (frostDir !== undefined) {
    if (!existsSync(frostDir) || !statSync(frostDir).isDirectory()) throw new UsageError(`zoa demo: --frost ${frostDir}: no such directory`);
  } else if (shared && existsSync(join(shared, "data/frost"))) frostDir = join(shared, "data/frost");
  return { runs, data, frostDir, inputs };
}

function settings(f: Flags, frostDir: string | undefined): DemoSettings {
  const positive = (name: string, v: number | undefined, dflt: number): number => {
    const x = v ?? dflt;
    if (!Number.isInteger(x) || x < 1) throw new UsageError(`zoa demo: --${name} must be a positive integer, got ${x}`);
    return x;
  };
  const severity = f.severity ?? 5;
  if (severity < 1 || severity > 5) throw new UsageError(`zoa demo: --severity must be 1..5, got ${severity}`);
  const variant = (f["zoa-variant"] ?? DEFAULT_ZOA_VARIANT) as ZoaVariantName;
  if (!ZOA_VARIANTS.includes(variant)) throw new UsageError(`zoa demo: --zoa-variant must be one of ${ZOA_VARIANTS.join(", ")}`);
  return {
    methods: parseMethods("demo", f.methods ?? "none,norm,t3a,foa,zoa"),
    severity,
    batch: positive("batch", f.batch, 64),
    seed: f.seed ?? 0,
    limit: positive("limit-per-domain", f["limit-per-domain"], DEFAULT_LIMIT),
    foaLimit: positive("foa-limit", f["foa-limit"], DEFAULT_FOA_LIMIT),
    sourceN: positive("source-n", f["source-n"], 256),
    calibN: positive("calib-n", f["calib-n"], 32),
    exec: f.exec ?? "simulated",
    backend: f.backend ?? DEFAULT_BACKEND,
    edgeBits: f["edge-bits"] ?? 8,
    zoaVariant: variant,
    frostDir,
    quiet: f.quiet,
  };
}

function machine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`;
}

export async function demoCommand(argv: string[]): Promise<number> {
  const f = parseFlags("demo", argv, FLAGS);
  if (f.help) {
    console.log(helpText("demo", "quantized demo models meet a stream of corrupted images: NoAdapt, NormAdapt, T3A, FOA and ZOA side by side", FLAGS));
    return 0;
  }
  const t0 = performance.now();
  const log = (m: string) => {
    if (!f.quiet) process.stderr.write(`${m}\n`);
  };
  const p = plan(f);
  const s = settings(f, p.frostDir);
  log(`zoa demo: ${p.runs.length} run(s): ${p.runs.map((r) => r.label).join(", ")}; ${s.limit} images per corruption (FOA ${Math.min(s.foaLimit, s.limit)}), severity ${s.severity}`);
  const runs: DemoRun[] = [];
  for (const spec of p.runs) {
    const run = runDemo(spec, p.data, s, log);
    runs.push(run);
    log(`${spec.label}: ${run.seconds.toFixed(1)} s`);
    if (f.json) console.log(JSON.stringify(adaptJson(run.meta, run.report)));
    else console.log(`\n== ${spec.label} ==\n${reportTable(run.report, run.meta)}${run.notes.map((n) => `\nnote: ${n}`).join("")}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  // With --json, stdout holds only the JSON lines: the summary and the report's location go to stderr.
  const say = f.json ? (m: string) => process.stderr.write(`${m}\n`) : (m: string) => console.log(m);
  say("");
  for (const run of runs) {
    const none = run.report.methods.none;
    const zoa = run.report.methods.zoa;
    if (none && zoa) say(`${run.spec.label.padEnd(24)} NoAdapt ${none.mean.toFixed(2).padStart(6)}  ZOA ${zoa.mean.toFixed(2).padStart(6)}  (${zoa.mean - none.mean >= 0 ? "+" : ""}${(zoa.mean - none.mean).toFixed(2)} points)`);
  }
  if (!f["no-html"]) {
    const file = resolve(f.html ?? "zoa-demo-report.html");
    const html = demoHtml(runs, {
      command: `zoa demo ${argv.join(" ")}`.trim(),
      machine: machine(),
      data: p.data.describe,
      seconds,
      generatedAt: new Date().toISOString(),
    });
    writeOutput("demo", "html", file, html, p.inputs);
    say(`HTML report: ${file}`);
  }
  say(`total ${seconds.toFixed(1)} s`);
  return 0;
}
