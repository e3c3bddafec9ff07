// The cost of adapting: one ZOA step (Adapter.forward = clean pass + perturbed pass, both with batch-statistics
// BN, the losses, the SPSA update) vs one NoAdapt forward pass, on ResNet-20 W8A8 and W6A6 with integer kernels,
// batch 64 (the issue wants ZOA <= 2.2x NoAdapt). Spec ZOA configuration; source statistics from 64 clean
// images of data_batch_1; the same test batch every step (steps after the first see no domain shift, so the bank
// stays at its first slot). CPU-time medians, the methods timed in turn (interleaved) so load changes hit all alike.
// NoAdapt runs the fused integer ResNet pipeline (BN folded with running statistics); ZOA and NormAdapt need batch
// statistics and norm overrides, so they run layer by layer: NoAdapt is also timed layer by layer (same path as ZOA).
import { normalizeBatch, readCifar } from "../src/data/cifar.js";
import { loadModel } from "../src/models/load.js";
import { type QuantPreset, calibrateModel, quantConfig } from "../src/quant/ptq.js";
import { QuantizedModel } from "../src/quant/qmodel.js";
import type { Tensor } from "../src/tensor/tensor.js";
import { NoAdapt, NormAdapt } from "../src/zoa/baselines.js";
import { sourceStatistics } from "../src/zoa/features.js";
import { Zoa, zoaSpecConfig } from "../src/zoa/zoa.js";
import { measureInterleaved } from "./peers/measure.js";
import { mdTable } from "./util.js";

const BATCH = 64;
const RUNS = { runs: 7, warmupCalls: 2, warmupMs: 0, minSampleMs: 0 };

export interface ZoaStepRow {
  model: string;
  precision: string;
  /** CPU ms per batch. */
  noAdaptMs: number;
  normAdaptMs: number;
  zoaMs: number;
  /** zoaMs / noAdaptMs (the issue wants <= 2.2). */
  ratio: number;
  /** NoAdapt layer by layer (QuantizedModel.fuse = false, ZOA's execution path) and zoaMs over it. */
  noAdaptLayeredMs: number;
  ratioLayered: number;
  forwardPassesPerStep: number;
}

export async function benchZoaStep(opts: { shared: string; presets?: QuantPreset[] }): Promise<ZoaStepRow[]> {
  const model = loadModel(`${opts.shared}/models/resnet20-cifar10.safetensors`);
  const x: Tensor = normalizeBatch(readCifar(`${opts.shared}/data/cifar10/test_batch.bin`, BATCH), 0, BATCH, model.mean, model.std);
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
    const layered = (): unknown => {
      q.fuse = false;
      try {
        return none.forward(x);
      } finally {
        q.fuse = true;
      }
    };
    const t = await measureInterleaved({ none: () => none.forward(x), noneLayered: layered, norm: () => norm.forward(x), zoa: () => zoa.forward(x) }, RUNS);
    const noAdaptMs = t.none.cpuMs;
    const normAdaptMs = t.norm.cpuMs;
    const zoaMs = t.zoa.cpuMs;
    const s = zoa.stats();
    rows.push({
      model: "resnet20-cifar10",
      precision: `${preset.toUpperCase()} integer`,
      noAdaptMs,
      normAdaptMs,
      zoaMs,
      ratio: zoaMs / noAdaptMs,
      noAdaptLayeredMs: t.noneLayered.cpuMs,
      ratioLayered: zoaMs / t.noneLayered.cpuMs,
      forwardPassesPerStep: s.forwardPasses / s.batches,
    });
  }
  return rows;
}

export function zoaStepTable(rows: readonly ZoaStepRow[]): string {
  return mdTable(
    ["model", "precision", "NoAdapt ms/batch", "NormAdapt ms/batch", "ZOA step ms/batch", "forward passes / step", "ZOA / NoAdapt", "NoAdapt layer by layer ms/batch", "ZOA / layer-by-layer NoAdapt", "issue wants"],
    rows.map((r) => [
      r.model,
      r.precision,
      r.noAdaptMs.toFixed(1),
      r.normAdaptMs.toFixed(1),
      r.zoaMs.toFixed(1),
      r.forwardPassesPerStep.toFixed(0),
      `${r.ratio.toFixed(2)}x`,
      r.noAdaptLayeredMs.toFixed(1),
      `${r.ratioLayered.toFixed(2)}x`,
      "<= 2.2x",
    ]),
  );
}

export const ZOA_STEP_NOTE =
  `Batch ${BATCH}, integer kernels, spec ZOA configuration; process CPU time, medians of ${RUNS.runs} batches per method after ${RUNS.warmupCalls} warm-up batches, methods timed in turn. ` +
  `NoAdapt runs the fused integer pipeline (running BN statistics folded); ZOA and NormAdapt (batch statistics, norm ` +
  `overrides) run layer by layer, so NoAdapt is also timed layer by layer, the same execution path as ZOA's two passes.`;
