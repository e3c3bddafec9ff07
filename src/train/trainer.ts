// Supervised training of a TrainModel on an ImageSet: shuffled mini-batches (optionally augmented), cross-entropy
// with label smoothing, SGD or AdamW under a cosine schedule with linear warm-up, and after every epoch an
// evaluation on a held-out set through the inference model of src/models (what a saved checkpoint will compute).
// Everything random comes from Rng(seed): the same seed gives the same weights.
import { type ImageSet, normalizeBatch } from "../data/cifar.js";
import { Progress } from "../cli/progress.js";
import { argmax } from "../tensor/ops/reduce.js";
import { logSoftmax } from "../tensor/ops/softmax.js";
import { Rng } from "../tensor/rng.js";
import { backward, constant } from "./autograd.js";
import { CIFAR_AUGMENT, gatherBatch } from "./batches.js";
import { type Normalisation, toClassifier } from "./checkpoint.js";
import { crossEntropy } from "./grad_softmax.js";
import { type TrainModel, decays, forward } from "./models.js";
import { type OptimizerConfig, cosineLr, makeOptimizer } from "./optim.js";

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  /** Linear warm-up length in epochs (may be fractional); then cosine decay to `minLr` at the last step. */
  warmupEpochs: number;
  minLr?: number;
  labelSmoothing: number;
  /** Random crop (pad 4) and horizontal flip. */
  augment: boolean;
  seed: number;
  /** Input normalisation, also written into checkpoints. */
  norm: Normalisation;
  evalBatchSize?: number;
  /** Stops each epoch after this many steps (smoke runs and timing). */
  maxStepsPerEpoch?: number;
  /** Progress bar on stderr. */
  progress?: boolean;
  /** Called after each epoch's evaluation (e.g. to write a checkpoint). */
  onEpoch?: (r: EpochResult) => void;
}

export interface EpochResult {
  epoch: number;
  steps: number;
  images: number;
  /** Mean training loss (with label smoothing) and accuracy over the epoch's batches (training mode). */
  trainLoss: number;
  trainAccuracy: number;
  /** Held-out accuracy and loss (no smoothing), eval mode. */
  testAccuracy: number;
  testLoss: number;
  lr: number;
  /** Wall-clock seconds of the training steps (evaluation excluded). */
  trainSeconds: number;
}

/** Accuracy and mean cross-entropy of the model's inference form on a set. */
export function evaluate(model: TrainModel, set: ImageSet, norm: Normalisation, batchSize = 250): { accuracy: number; loss: number } {
  const classifier = toClassifier(model, norm, "eval");
  let correct = 0;
  let loss = 0;
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    const logits = classifier.forward(normalizeBatch(set, start, n, norm.mean, norm.std)).logits;
    const pred = argmax(logits, 1);
    const logp = logSoftmax(logits, 1);
    const K = logits.shape[1];
    for (let i = 0; i < n; i++) {
      if (pred[i] === set.labels[start + i]) correct++;
      loss -= logp.data[i * K + set.labels[start + i]];
    }
  }
  return { accuracy: set.count > 0 ? correct / set.count : 0, loss: set.count > 0 ? loss / set.count : 0 };
}

/** Trains `model` in place; returns one result per epoch. */
export function train(model: TrainModel, trainSet: ImageSet, testSet: ImageSet, opts: TrainOptions): EpochResult[] {
  const rng = new Rng(opts.seed, 0x7a11);
  const stepsPerEpoch = Math.min(Math.floor(trainSet.count / opts.batchSize), opts.maxStepsPerEpoch ?? Infinity);
  if (stepsPerEpoch < 1) throw new RangeError(`train: ${trainSet.count} images give no batch of ${opts.batchSize}`);
  const totalSteps = stepsPerEpoch * opts.epochs;
  const warmupSteps = Math.round(opts.warmupEpochs * stepsPerEpoch);
  const optimizer = makeOptimizer(opts.optimizer, model.params, decays);
  const results: EpochResult[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const order = rng.permutation(trainSet.count);
    const progress = new Progress(`epoch ${epoch}/${opts.epochs}`, stepsPerEpoch, opts.progress ?? false);
    const t0 = performance.now();
    let lossSum = 0;
    let correct = 0;
    let lr = 0;
    for (let s = 0; s < stepsPerEpoch; s++, step++) {
      const batch = gatherBatch(trainSet, order.slice(s * opts.batchSize, (s + 1) * opts.batchSize), rng, opts.augment ? CIFAR_AUGMENT : null);
      const x = normalizeBatch(batch, 0, batch.count, opts.norm.mean, opts.norm.std);
      const logits = forward(model, constant(x), true);
      const loss = crossEntropy(logits, batch.labels, { labelSmoothing: opts.labelSmoothing });
      optimizer.zeroGrad();
      backward(loss);
      lr = cosineLr(step, totalSteps, warmupSteps, opts.optimizer.lr, opts.minLr ?? 0);
      optimizer.step(lr);
      lossSum += loss.value.data[0];
      const pred = argmax(logits.value, 1);
      for (let i = 0; i < batch.count; i++) if (pred[i] === batch.labels[i]) correct++;
      progress.update(s + 1, `loss ${(lossSum / (s + 1)).toFixed(3)} lr ${lr.toPrecision(3)}`);
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const test = evaluate(model, testSet, opts.norm, opts.evalBatchSize);
    const images = stepsPerEpoch * opts.batchSize;
    const r: EpochResult = {
      epoch,
      steps: stepsPerEpoch,
      images,
      trainLoss: lossSum / stepsPerEpoch,
      trainAccuracy: correct / images,
      testAccuracy: test.accuracy,
      testLoss: test.loss,
      lr,
      trainSeconds,
    };
    results.push(r);
    opts.onEpoch?.(r);
  }
  return results;
}
