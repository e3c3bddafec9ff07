// The contract every test-time adaptation method implements (NoAdapt, NormAdapt, T3A, FOA, ZOA):
// forward(batch) returns the prediction made BEFORE adapting on that batch, then adapts (predict-then-adapt,
// online, unlabeled). A Predictor says how to run the (possibly quantized) model; every call through
// `countedForward` is one forward pass in the statistics.
import type { WritableTensor } from "../io/safetensors.js";
import type { LayerOps } from "../models/layers.js";
import type { Classifier, ForwardOptions, ForwardResult } from "../models/model.js";
import type { Tensor } from "../tensor/tensor.js";

/** A model plus the execution of its quantized layers (undefined: float). */
export interface Predictor {
  model: Classifier;
  layers?: LayerOps;
}

export interface AdapterStats {
  /** Forward passes over the model so far (a pass over a whole batch counts once). */
  forwardPasses: number;
  batches: number;
  /** Wall time inside forward(), seconds. */
  seconds: number;
  /** Memory the method keeps beyond the model (bank, statistics, optimiser state), bytes. */
  adapterBytes: number;
  /** Method-specific counters (e.g. ZOA: slots, detected shifts). */
  extra: Record<string, number>;
}

/** A serialisable adapter state: tensors plus string metadata (safetensors-shaped). */
export interface AdapterState {
  tensors: Record<string, WritableTensor>;
  metadata: Record<string, string>;
}

export interface Adapter {
  readonly name: string;
  /** The model this adapter runs (its normalisation is applied to the stream's uint8 images). */
  readonly predictor: Predictor;
  /** x: normalised images [N, C, H, W] -> logits [N, classes] predicted before adapting on x. */
  forward(x: Tensor): Tensor;
  /** Back to the source model (forgets everything learned). */
  reset(): void;
  stats(): AdapterStats;
  save(): AdapterState;
  load(state: AdapterState): void;
}

/** Shared bookkeeping: forward-pass counter and timing. */
export class PassCounter {
  passes = 0;
  batches = 0;
  seconds = 0;

  constructor(readonly predictor: Predictor) {}

  run(x: Tensor, opts: ForwardOptions = {}): ForwardResult {
    this.passes++;
    return this.predictor.model.forward(x, { ...opts, layers: this.predictor.layers });
  }

  head(final: Tensor): Tensor {
    return this.predictor.model.headLogits(final, this.predictor.layers);
  }

  /** Times fn as one batch. */
  batch<T>(fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.seconds += (performance.now() - t0) / 1000;
      this.batches++;
    }
  }

  reset(): void {
    this.passes = 0;
    this.batches = 0;
    this.seconds = 0;
  }
}
