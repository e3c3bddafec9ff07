// The simple peers: NoAdapt (the deployed model as is) and NormAdapt (BatchNorm normalises with the current
// batch's statistics; no parameter changes; no effect on a ViT, whose LayerNorms already use per-token stats).
import type { Tensor } from "../tensor/tensor.js";
import { type Adapter, type AdapterState, type AdapterStats, PassCounter, type Predictor } from "./adapter.js";

abstract class StatelessAdapter implements Adapter {
  abstract readonly name: string;
  protected readonly counter: PassCounter;

  constructor(readonly predictor: Predictor) {
    this.counter = new PassCounter(predictor);
  }

  abstract forward(x: Tensor): Tensor;

  reset(): void {
    this.counter.reset();
  }

  stats(): AdapterStats {
    return { forwardPasses: this.counter.passes, batches: this.counter.batches, seconds: this.counter.seconds, adapterBytes: 0, extra: {} };
  }

  save(): AdapterState {
    return { tensors: {}, metadata: { adapter: this.name } };
  }

  load(): void {}
}

export class NoAdapt extends StatelessAdapter {
  readonly name = "none";

  forward(x: Tensor): Tensor {
    return this.counter.batch(() => this.counter.run(x).logits);
  }
}

export class NormAdapt extends StatelessAdapter {
  readonly name = "norm";

  forward(x: Tensor): Tensor {
    return this.counter.batch(() => this.counter.run(x, { bnStats: "batch" }).logits);
  }
}
