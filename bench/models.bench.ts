// Whole-model inference throughput: the engine (each backend) vs PyTorch CPU on the same 64 images.
import { normalizeBatch, readCifar } from "../src/data/cifar.js";
import { loadModel } from "../src/models/load.js";
import { BACKENDS, withBackend } from "../src/tensor/backends.js";
import { timeMedian, torchAvailable, torchBench } from "./util.js";

export interface ModelRow {
  model: string;
  batch: number;
  backend: string;
  imagesPerSecond: number;
  torch1: number | null;
  torch2: number | null;
  /** engine / PyTorch single-thread. */
  ratio: number | null;
}

export async function benchModels(opts: { shared: string; runs?: number; batch?: number; backends?: string[] }): Promise<ModelRow[]> {
  const runs = opts.runs ?? 5;
  const batch = opts.batch ?? 64;
  const data = `${opts.shared}/data/cifar10/test_batch.bin`;
  const haveTorch = torchAvailable();
  if (!haveTorch) process.stderr.write("PyTorch not found for /usr/bin/python3: peer columns left empty\n");
  const rows: ModelRow[] = [];
  for (const name of ["resnet20", "vit-tiny"]) {
    const file = `${opts.shared}/models/${name}-cifar10.safetensors`;
    const model = loadModel(file);
    const set = readCifar(data, batch);
    const t1 = haveTorch ? torchBench(file, data, batch, runs, 1) : null;
    const t2 = haveTorch ? torchBench(file, data, batch, runs, 2) : null;
    for (const backend of BACKENDS) {
      if (backend.name === "reference") continue;
      // gpujs in Node is gpu.js's cpu mode (an emulation, ~1 image/s on ResNet-20): only when asked for by name.
      if (backend.name === "gpujs" && !opts.backends?.includes("gpujs")) continue;
      if (opts.backends && !opts.backends.includes(backend.name)) continue;
      process.stderr.write(`bench ${name} batch ${batch} on ${backend.name}...\n`);
      const ms = withBackend(backend, () => timeMedian(() => model.forward(normalizeBatch(set, 0, batch, model.mean, model.std)), runs, 1));
      const ips = batch / (ms / 1000);
      rows.push({
        model: `${name}-cifar10`,
        batch,
        backend: backend.name,
        imagesPerSecond: ips,
        torch1: t1?.imagesPerSecond ?? null,
        torch2: t2?.imagesPerSecond ?? null,
        ratio: t1 ? ips / t1.imagesPerSecond : null,
      });
    }
  }
  return rows;
}
