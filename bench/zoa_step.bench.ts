// The cost of adapting: one ZOA step (Adapter.forward = clean pass + perturbed pass, both with batch-statistics
// BN, the losses, the SPSA update) vs one NoAdapt forward pass, on ResNet-20 W8A8 and W6A6 with integer kernels,
// batch 64 (the issue wants ZOA <= 2.2x NoAdapt). Spec ZOA configuration; source statistics from 64 clean
// images of data_batch_1; every call takes the next of 4 different test batches (so a step's clean pass never
// finds the previous step's batch in the fused pipeline's checkpoint, as in a real stream; the perturbed pass does
// find its own clean pass there). CPU-time medians, the methods timed in turn (interleaved) so load changes hit all
// alike. All three run the fused integer ResNet pipeline: NoAdapt with running statistics folded once, NormAdapt and
// ZOA with the BN refolded from each batch's statistics; the same three layer by layer (fusion off) for reference.
import { normalizeBatch, readCifar } from "../src/data/cifar.js";
import { loadModel } from "../src/models/load.js";
import { type QuantPreset, calibrateModel, quantConfig } from "../src/quant/ptq.js";
import { QuantizedModel } from "../src/quant/qmodel.js";
import type { Tensor } from "../src/tensor/tensor.js";
import { NoAdapt, NormAdapt } from "../src/zoa/baselines.js";
import { sourceStatistics } from "../src/zoa/features.js";
import { Zoa, zoaSpecConfig } from "../src/zoa/zoa.js";
import { measureInterleaved, pairedRatio } from "./peers/measure.js";
import { mdTable } from "./util.js";

const BATCH = 64;
const BATCHES = 4;
const RUNS = { runs: 11, warmupCalls: 2, warmupMs: 0, minSampleMs: 0 };

export interface ZoaStepRow {
  model: string;
  precision: string;
  /** CPU ms per batch. */
  noAdaptMs: number;
  normAdaptMs: number;
  zoaMs: number;
  /** ZOA over NoAdapt, the median of the per-round ratios (the issue wants <= 2.2). */
  ratio: number;
  /** NoAdapt and ZOA layer by layer (QuantizedModel.fuse = false), and their ratio. */
  noAdaptLayeredMs: number;
  zoaLayeredMs: number;
  ratioLayered: number;
  forwardPassesPerStep: number;
}

export async function benchZoaStep(opts: { shared: string; presets?: QuantPreset[] }): Promise<ZoaStepRow[]> {
  const model = loadModel(`${opts.shared}/models/resnet20-cifar10.safetensors`);
  const images = readCifar(`${opts.shared}/data/cifar10/test_batch.bin`, BATCHES * BATCH);
  const xs: Tensor[] = Array.from({ length: BATCHES }, (_, i) => normalizeBatch(images, i * BATCH, BATCH, model.mean, model.std));
  /** fn on the next of the BATCHES test batches at each call (one ring per method). */
  const cycling = (fn: (x: Tensor) => unknown): (() => unknown) => {
    let i = 0;
    return () => fn(xs[i++ % BATCHES]);
  };
  const clean = readCifar(`${opts.shared}/data/cifar10/data_batch_1.bin`, 64);
  const rows: ZoaStepRow[] = [];
  for (const preset of opts.presets ?? (["w8a8", "w6a6"] as QuantPreset[])) {
    process.stderr.write(`zoa step: resnet20 ${preset} integer\n`);
    const cfg = quantConfig(preset);
    const q = new QuantizedModel(model, cfg, calibrateModel(model, normalizeBatch(clean, 0, 32, model.mean, model.std), cfg));
    const predictor = { model, layers: q.layerOps("integer") };
    const source = sourceStatistics(predictor, clean, 64);
    const none = new NoAdapt(predictor);
    const norm = new NormAdapt(predictor);
    const zoa = new Zoa(predictor, source, zoaSpecConfig(model, cfg.abits, { seed: 0 }));
    const layered = (fn: (x: Tensor) => unknown): (() => unknown) =>
      cycling((x) => {
        q.fuse = false;
        try {
          return fn(x);
        } finally {
          q.fuse = true;
        }
      });
    const zoaLayered = new Zoa(predictor, source, zoaSpecConfig(model, cfg.abits, { seed: 0 }));
    const t = await measureInterleaved(
      {
        none: cycling((x) => none.forward(x)),
        norm: cycling((x) => norm.forward(x)),
        zoa: cycling((x) => zoa.forward(x)),
        noneLayered: layered((x) => none.forward(x)),
        zoaLayered: layered((x) => zoaLayered.forward(x)),
      },
      RUNS,
    );
    const noAdaptMs = t.none.cpuMs;
    const normAdaptMs = t.norm.cpuMs;
    const zoaMs = t.zoa.cpuMs;
    if (q.fusedFallbacks > 0) process.stderr.write(`zoa step: ${q.fusedFallbacks} batch-statistics forwards fell back to the unfused path\n`);
    const s = zoa.stats();
    rows.push({
      model: "resnet20-cifar10",
      precision: `${preset.toUpperCase()} integer`,
      noAdaptMs,
      normAdaptMs,
      zoaMs,
      ratio: pairedRatio(t.zoa, t.none),
      noAdaptLayeredMs: t.noneLayered.cpuMs,
      zoaLayeredMs: t.zoaLayered.cpuMs,
      ratioLayered: pairedRatio(t.zoaLayered, t.noneLayered),
      forwardPassesPerStep: s.forwardPasses / s.batches,
    });
  }
  return rows;
}

export function zoaStepTable(rows: readonly ZoaStepRow[]): string {
  return mdTable(
    ["model", "precision", "NoAdapt ms/batch", "NormAdapt ms/batch", "ZOA step ms/batch", "forward passes / step", "ZOA / NoAdapt", "issue wants", "layer by layer: NoAdapt ms", "ZOA ms", "ratio"],
    rows.map((r) => [
      r.model,
      r.precision,
      r.noAdaptMs.toFixed(1),
      r.normAdaptMs.toFixed(1),
      r.zoaMs.toFixed(1),
      r.forwardPassesPerStep.toFixed(0),
      `${r.ratio.toFixed(2)}x`,
      "<= 2.2x",
      r.noAdaptLayeredMs.toFixed(1),
      r.zoaLayeredMs.toFixed(1),
      `${r.ratioLayered.toFixed(2)}x`,
    ]),
  );
}

export const ZOA_STEP_NOTE =
  `Batch ${BATCH}, integer kernels, spec ZOA configuration; process CPU time, medians of ${RUNS.runs} batches per method after ${RUNS.warmupCalls} warm-up batches, methods timed in turn, each call on the next of ${BATCHES} different test batches; ` +
  `the ratios are the medians of the ${RUNS.runs} per-round ratios (each round times every method once, so a load change within a round hits both sides). ` +
  `All run the fused integer pipeline: NoAdapt with running BN statistics folded once; NormAdapt and ZOA with every BN refolded from the batch's ` +
  `statistics (SIMD per-channel sums of the int32 accumulators) and ZOA's fused parameters; ZOA's perturbed pass resumes from its clean pass's ` +
  `checkpoint before the first adapted layer (layer1.1). The last three columns: the same with fusion off (layer by layer, float BN).`;
