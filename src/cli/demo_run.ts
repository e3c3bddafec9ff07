// One run of `zoa demo`: a checkpoint at one precision, the adaptation methods side by side on the continual
// corruption stream (through adapt_run.ts, as `zoa adapt`), plus what the HTML report draws: each method's
// top-1 within the current corruption after every batch, and ZOA's bank (slots, fusion weights) at the end of
// every corruption. FOA (28 forward passes per batch) can run on only the first `foaLimit` images of each
// corruption, on its own pass over the same stream; its row then says so (extra.imagesPerDomain).
import type { StreamBatch, StreamOptions, StreamSource } from "../data/stream.js";
import type { Variant } from "../data/corruptions/index.js";
import { CORRUPTIONS } from "../data/corruptions/index.js";
import { sourceStatistics } from "../zoa/features.js";
import type { RunReport } from "../zoa/runner.js";
import type { ZoaVariantName } from "../zoa/variants.js";
import { Zoa } from "../zoa/zoa.js";
import { type AdaptMeta, createAdapters, runWithProgress } from "./adapt_run.js";
import type { DemoData } from "./demo_data.js";
import { prepareModel } from "./model_flags.js";
import { type ZoaTrace, ZoaTracer } from "./zoa_trace.js";

export interface DemoRunSpec {
  /** e.g. "demo_resnet8 w6a6". */
  label: string;
  modelFile: string;
  /** w8a8 | w6a6 | w4a4 | fp32. */
  quant: string;
  calibMethod: string;
  /** Whether FOA (28 forward passes per batch) runs here, when it is among the methods. */
  foa: boolean;
}

export interface DemoSettings {
  methods: readonly string[];
  severity: number;
  batch: number;
  seed: number;
  /** Images per corruption. */
  limit: number;
  /** Images per corruption for FOA (>= limit: FOA runs with the others). */
  foaLimit: number;
  sourceN: number;
  calibN: number;
  exec: string;
  backend: string;
  edgeBits: number;
  zoaVariant: ZoaVariantName;
  frostDir?: string;
  quiet: boolean;
}

export interface DemoRun {
  spec: DemoRunSpec;
  /** Model kind (vit, cifar_resnet, resnet). */
  kind: string;
  meta: AdaptMeta;
  report: RunReport;
  /** Per method, after each batch: (position along the stream in corruptions, top-1 % within the corruption so far). */
  series: Record<string, [number, number][]>;
  zoa: ZoaTrace | null;
  notes: string[];
  seconds: number;
}

/** Corruption constants by image side: 224 -> ImageNet table, anything else -> CIFAR table. */
function variantFor(size: number): Variant {
  return size === 224 ? "imagenet" : "cifar";
}

export function runDemo(spec: DemoRunSpec, data: DemoData, s: DemoSettings, log: (m: string) => void): DemoRun {
  const t0 = performance.now();
  const flags = { model: spec.modelFile, quant: spec.quant, "calib-method": spec.calibMethod, "calib-n": s.calibN, exec: s.exec, backend: s.backend, "edge-bits": s.edgeBits };
  // Calibration's per-layer progress stays quiet: the run's own lines say what is happening.
  const prepared = prepareModel("demo", flags, () => {}, (m) => data.train(m.imageSize, Math.max(s.calibN, s.sourceN)));
  const model = prepared.model;
  const predictor = { model, layers: prepared.layers };
  const size = model.imageSize;
  const notes: string[] = [];
  let methods = [...s.methods];
  if (model.kind === "vit" && methods.includes("norm")) {
    methods = methods.filter((m) => m !== "norm");
    notes.push("norm (NormAdapt) skipped: a ViT has no BatchNorm, so it would equal none");
  }
  if (!spec.foa && methods.includes("foa")) {
    methods = methods.filter((m) => m !== "foa");
    notes.push("foa not run here (28 forward passes per batch: by default it runs in one run only; --foa all runs it in every run)");
  }
  log(`${spec.label}: ${prepared.label} (calibration ${prepared.calibSeconds.toFixed(1)} s); source statistics from ${s.sourceN} clean images`);
  const sourceStats = sourceStatistics(predictor, data.train(size, Math.max(s.calibN, s.sourceN)), s.sourceN);
  const bits = prepared.quantized ? prepared.quantized.config.abits : null;
  const ctx = { predictor, source: sourceStats, bits, seed: s.seed, zoaVariant: s.zoaVariant };
  const foaApart = methods.includes("foa") && s.foaLimit < s.limit;
  const mainMethods = foaApart ? methods.filter((m) => m !== "foa") : methods;
  const adapters = createAdapters(mainMethods, ctx);
  const zoa = adapters.find((a): a is Zoa => a instanceof Zoa) ?? null;

  const test = data.test(size, s.limit);
  const source: StreamSource = { kind: "clean", set: test, corruptSeed: s.seed, corrupt: { variant: variantFor(size), frostDir: s.frostDir } };
  const stream: StreamOptions = { severity: s.severity, rounds: 1, batchSize: s.batch, seed: s.seed, limitPerDomain: s.limit, corruptions: CORRUPTIONS };
  const series: Record<string, [number, number][]> = Object.fromEntries(methods.map((m) => [m, []]));
  const trace = zoa ? new ZoaTracer(zoa) : null;
  const record = (limit: number, batch: number) => (b: StreamBatch, acc: Record<string, number>) => {
    // x: the middle of the batch's share of its corruption (corruption d spans [d, d + 1]).
    const x = CORRUPTIONS.indexOf(b.domain) + Math.min(1, ((b.index + 0.5) * batch) / Math.min(limit, test.count));
    for (const [name, a] of Object.entries(acc)) series[name]?.push([x, a]);
  };
  const onMain = record(s.limit, s.batch);
  const report = runWithProgress(adapters, {
    source,
    stream,
    perDomain: test.count,
    quiet: s.quiet,
    label: spec.label,
    onBatch: (b, acc) => {
      onMain(b, acc);
      trace?.observe(b);
    },
  });

  if (foaApart) {
    const foaBatch = Math.min(s.batch, s.foaLimit);
    const foaStream: StreamOptions = { ...stream, limitPerDomain: s.foaLimit, batchSize: foaBatch };
    const foa = runWithProgress(createAdapters(["foa"], ctx), {
      source,
      stream: foaStream,
      perDomain: test.count,
      quiet: s.quiet,
      label: `${spec.label} foa`,
      onBatch: record(s.foaLimit, foaBatch),
    });
    const r = foa.methods.foa;
    r.extra = { ...r.extra, imagesPerDomain: s.foaLimit, batch: foaBatch };
    report.methods = Object.fromEntries(methods.map((m) => [m, m === "foa" ? r : report.methods[m]]));
    notes.push(
      `foa runs on the first ${s.foaLimit} images of each corruption (batches of ${foaBatch}), the others on ${s.limit}: FOA costs 28 forward passes per batch, and its CMA-ES takes one step per batch (${foa.batches} on this stream)`,
    );
  }
  if (!s.frostDir) notes.push("frost uses the procedural stand-in textures (no --frost folder)");
  const meta: AdaptMeta = {
    model: spec.modelFile,
    precision: prepared.label,
    severity: s.severity,
    rounds: 1,
    batch: s.batch,
    seed: s.seed,
    zoaVariant: s.zoaVariant,
    limitPerDomain: s.limit,
    images: report.images,
  };
  return { spec, kind: model.kind, meta, report, series, zoa: trace?.result() ?? null, notes, seconds: (performance.now() - t0) / 1000 };
}
