// Quantized inference: images/s of float vs simulated (fake-quant) vs integer execution on the same 64 images,
// and the deployed model size at each precision.
import { normalizeBatch, readCifar } from "../src/data/cifar.js";
import { loadModel } from "../src/models/load.js";
import { calibrateModel, quantConfig, type QuantPreset } from "../src/quant/ptq.js";
import { QuantizedModel } from "../src/quant/qmodel.js";
import { timeMedian } from "./util.js";

export interface QuantRow {
  model: string;
  precision: string;
  floatIps: number;
  simulatedIps: number | null;
  integerIps: number | null;
  bytes: number;
}

export async function benchQuant(opts: { shared: string; runs?: number; batch?: number }): Promise<QuantRow[]> {
  const runs = opts.runs ?? 5;
  const batch = opts.batch ?? 64;
  const rows: QuantRow[] = [];
  const test = readCifar(`${opts.shared}/data/cifar10/test_batch.bin`, batch);
  const calib = readCifar(`${opts.shared}/data/cifar10/data_batch_1.bin`, 32);
  for (const name of ["resnet20", "vit-tiny"]) {
    const model = loadModel(`${opts.shared}/models/${name}-cifar10.safetensors`);
    const x = normalizeBatch(test, 0, batch, model.mean, model.std);
    const c = normalizeBatch(calib, 0, 32, model.mean, model.std);
    process.stderr.write(`bench quant ${name}...\n`);
    const floatMs = timeMedian(() => model.forward(x), runs, 1);
    const floatIps = batch / (floatMs / 1000);
    rows.push({ model: name, precision: "fp32", floatIps, simulatedIps: null, integerIps: null, bytes: model.params.count() * 4 });
    for (const preset of ["w8a8", "w6a6", "w4a4"] as QuantPreset[]) {
      const cfg = quantConfig(preset);
      const q = new QuantizedModel(model, cfg, calibrateModel(model, c, cfg));
      const sim = batch / (timeMedian(() => q.forward(x, { exec: "simulated" }), runs, 1) / 1000);
      const int = preset === "w4a4" ? null : batch / (timeMedian(() => q.forward(x, { exec: "integer" }), Math.min(runs, 3), 1) / 1000);
      rows.push({ model: name, precision: preset, floatIps, simulatedIps: sim, integerIps: int, bytes: q.memoryBytes().total });
    }
  }
  return rows;
}
