// Trains a demo model from scratch on the procedural dataset (src/data/procedural.ts) and writes a safetensors
// checkpoint that `loadModel` (and every zoa command) reads. No outside data or weights are involved.
//   npx tsx tools/train/train_demo.ts --arch resnet --out models/demo_resnet.safetensors --epochs 15 --seed 0
//   npx tsx tools/train/train_demo.ts --arch vit --out models/demo_vit.safetensors --epochs 60 --seed 0
// Recipes: ResNet (CIFAR, depth 6n+2, widths 16/32/64): SGD nesterov momentum 0.9, lr 0.1 at batch 128, weight decay
// 5e-4, 1 warm-up epoch, cosine. ViT (32x32, patch 4, dim 64, depth 4, 4 heads, MLP ratio 2): AdamW lr 1e-3 at batch
// 128, weight decay 0.05, 5 warm-up epochs, cosine, label smoothing 0.1. Both: random crop (pad 4) + horizontal flip.
// The checkpoint is rewritten after every epoch; one JSON summary line goes to stdout at the end.
import { statSync } from "node:fs";
import { UsageError, helpText, parseFlags, required } from "../../src/cli/args.js";
import { proceduralSet } from "../../src/data/procedural.js";
import { cifarResNetConfig } from "../../src/models/resnet.js";
import type { ViTConfig } from "../../src/models/vit.js";
import { setBackend } from "../../src/tensor/backends.js";
import { Rng } from "../../src/tensor/rng.js";
import { channelStats } from "../../src/train/batches.js";
import { saveCheckpoint } from "../../src/train/checkpoint.js";
import { type TrainArch, initModel } from "../../src/train/models.js";
import type { OptimizerConfig } from "../../src/train/optim.js";
import { type EpochResult, train } from "../../src/train/trainer.js";

const FLAGS = {
  arch: { kind: "string", help: "resnet or vit" },
  out: { kind: "string", help: "checkpoint file (.safetensors)" },
  epochs: { kind: "int", help: "epochs (default: resnet 15, vit 60)" },
  seed: { kind: "int", default: 0, help: "init / shuffle / augmentation seed" },
  "data-seed": { kind: "int", default: 1, help: "procedural train set seed (the test set uses data-seed + 1)" },
  "train-size": { kind: "int", default: 10000, help: "training images" },
  "test-size": { kind: "int", default: 2000, help: "held-out images" },
  "batch-size": { kind: "int", default: 128, help: "mini-batch size" },
  lr: { kind: "number", help: "peak learning rate (default: resnet 0.1, vit 1e-3)" },
  depth: { kind: "int", default: 8, help: "ResNet depth 6n+2 (8, 14, 20)" },
  "label-smoothing": { kind: "number", help: "label smoothing (default: resnet 0, vit 0.1)" },
  "no-augment": { kind: "bool", help: "disable random crop + flip" },
  "max-steps": { kind: "int", help: "stop each epoch after this many steps (smoke runs / timing)" },
  backend: { kind: "string", default: "auto", help: "tensor backend" },
  quiet: { kind: "bool", help: "no progress bar" },
  help: { kind: "bool", help: "show this help" },
} as const;

const DEMO_VIT: ViTConfig = { imgSize: 32, patchSize: 4, inChans: 3, embedDim: 64, depth: 4, numHeads: 4, mlpRatio: 2, numClasses: 10, eps: 1e-6 };

function main(argv: string[]): void {
  const f = parseFlags("train_demo", argv, FLAGS);
  if (f.help) {
    process.stdout.write(`${helpText("train_demo", "train a demo model on the procedural dataset", FLAGS)}\n`);
    return;
  }
  const kind = required("train_demo", "arch", f.arch);
  if (kind !== "resnet" && kind !== "vit") throw new UsageError(`train_demo: --arch must be resnet or vit, got '${kind}'`);
  const out = required("train_demo", "out", f.out);
  setBackend(f.backend ?? "auto");
  const vit = kind === "vit";
  const arch: TrainArch = vit ? { kind: "vit", config: DEMO_VIT } : { kind: "cifar_resnet", config: cifarResNetConfig(f.depth ?? 8, 10, 32) };
  const name = vit ? "demo_vit_p4_d64_procedural" : `demo_resnet${f.depth ?? 8}_procedural`;
  const epochs = f.epochs ?? (vit ? 60 : 15);
  const optimizer: OptimizerConfig = vit
    ? { kind: "adamw", lr: f.lr ?? 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 }
    : { kind: "sgd", lr: f.lr ?? 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 };

  const dataSeed = f["data-seed"] ?? 1;
  const t0 = performance.now();
  const trainSet = proceduralSet(f["train-size"] ?? 10000, dataSeed);
  const testSet = proceduralSet(f["test-size"] ?? 2000, dataSeed + 1);
  const norm = channelStats(trainSet);
  process.stderr.write(`data: ${trainSet.count} train / ${testSet.count} test images in ${((performance.now() - t0) / 1000).toFixed(1)} s, mean ${norm.mean} std ${norm.std}\n`);

  const model = initModel(arch, new Rng(f.seed ?? 0));
  const paramCount = [...model.params.values()].reduce((n, v) => n + v.value.size, 0);
  process.stderr.write(`${name}: ${paramCount} parameters, ${optimizer.kind} lr ${optimizer.lr}, ${epochs} epochs of batch ${f["batch-size"]}\n`);

  const history = train(model, trainSet, testSet, {
    epochs,
    batchSize: f["batch-size"] ?? 128,
    optimizer,
    warmupEpochs: vit ? Math.min(5, epochs / 4) : Math.min(1, epochs / 4),
    labelSmoothing: f["label-smoothing"] ?? (vit ? 0.1 : 0),
    augment: !f["no-augment"],
    seed: f.seed ?? 0,
    norm,
    maxStepsPerEpoch: f["max-steps"],
    progress: !f.quiet,
    onEpoch: (r: EpochResult) => {
      saveCheckpoint(out, model, norm, name);
      const per10k = (r.trainSeconds / r.images) * 10000;
      process.stderr.write(
        `epoch ${r.epoch}/${epochs}: loss ${r.trainLoss.toFixed(3)} train ${(100 * r.trainAccuracy).toFixed(1)}% ` +
          `test ${(100 * r.testAccuracy).toFixed(1)}% (loss ${r.testLoss.toFixed(3)}) lr ${r.lr.toPrecision(3)} ` +
          `${r.trainSeconds.toFixed(1)} s (${per10k.toFixed(0)} s per 10k images)\n`,
      );
    },
  });
  const last = history[history.length - 1];
  const seconds = history.reduce((s, r) => s + r.trainSeconds, 0);
  const images = history.reduce((s, r) => s + r.images, 0);
  const summary = {
    arch: name,
    out,
    bytes: statSync(out).size,
    parameters: paramCount,
    epochs,
    testAccuracy: last.testAccuracy,
    trainAccuracy: last.trainAccuracy,
    secondsPer10kImages: Number(((seconds / images) * 10000).toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
