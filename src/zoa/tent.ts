// TENT (Wang et al., ICLR 2021, "Tent: Fully Test-Time Adaptation by Entropy Minimization"): every norm layer
// normalises with the current batch's statistics (BatchNorm in training mode; a ViT's LayerNorms already use per-token
// statistics) and only the norm affine parameters (weight, bias) are trained, by SGD (lr 1e-3, momentum 0.9, no weight
// decay, torch.optim.SGD's rule buf = mu buf + g; p -= lr buf) on the mean softmax entropy of the batch's logits.
// Per batch: one forward with the tape, the loss, one backward, one step; the returned prediction is the logits of
// that same forward, i.e. before the update (the reference code's forward_and_adapt does exactly this).
// The model's own parameters are never written: the differentiable model (src/train/models.ts) reads every other
// tensor as a constant sharing the model's storage, and the adapted affine lives in fresh `param` Vars here. Its
// BatchNorms get no running statistics, so nothing is updated in place.
// d(mean entropy)/d(logits) is computed in closed form (float64) and fed to backward() as the seed:
//   H_i = -sum_j p_ij log p_ij,   dH_i/dz_ij = -p_ij (log p_ij + H_i),   loss = mean_i H_i.
// Quantized predictors (TENT-STE): when the predictor's layers are a QuantizedModel's LayerOps, the differentiable
// model runs that model's simulated (fake-quant) forward (src/train/quant_layers.ts: weights on their per-channel
// grids, activations quantized at every conv / linear / matmul input, int32-grid biases) and the gradient crosses
// each activation quantizer by the straight-through estimator (src/train/grad_fakequant.ts). The first prediction
// then equals QuantizedModel.forward(x, {exec: "simulated", bnStats: "batch"}). With an integer-mode predictor TENT
// still predicts and adapts through the simulated forward (the two modes add the same integer-grid bias and differ
// only by float summation order).
// Memory (stats().adapterBytes): the affine and its momentum, plus the activations the tape keeps for backward at
// the largest batch so far (src/train/tape_bytes.ts), counted from the recorded graph itself.
import type { WritableTensor } from "../io/safetensors.js";
import { ModelError } from "../models/params.js";
import type { ResNet } from "../models/resnet.js";
import type { VisionTransformer } from "../models/vit.js";
import { Tensor } from "../tensor/tensor.js";
import { quantizedModelOf } from "../quant/qmodel.js";
import { type Var, backward, constant, param } from "../train/autograd.js";
import { type TrainArch, type TrainModel, forward as trainForward, paramSpec } from "../train/models.js";
import { simulatedTrainLayers } from "../train/quant_layers.js";
import { tapeBytes } from "../train/tape_bytes.js";
import { type Adapter, type AdapterState, type AdapterStats, PassCounter, type Predictor } from "./adapter.js";

export interface TentConfig {
  lr: number;
  momentum: number;
}

export const TENT_DEFAULTS: TentConfig = { lr: 1e-3, momentum: 0.9 };

export const TENT_LAYERS_ERROR = "tent: the predictor's layer execution is not a QuantizedModel's (simulated or integer); TENT cannot differentiate it";

interface TentMeta {
  format: "tent/1";
  names: string[];
  steps: number;
  config: TentConfig;
}

/** Mean softmax entropy of logits [N, C] and its gradient w.r.t. the logits (float64 sums). */
export function meanEntropyAndGrad(logits: Tensor): { loss: number; grad: Tensor } {
  const [N, C] = logits.shape;
  const grad = new Tensor([N, C]);
  const p = new Float64Array(C);
  const logp = new Float64Array(C);
  let total = 0;
  for (let i = 0; i < N; i++) {
    const row = logits.data.subarray(i * C, (i + 1) * C);
    let max = -Infinity;
    for (let j = 0; j < C; j++) max = Math.max(max, row[j]);
    let z = 0;
    for (let j = 0; j < C; j++) z += Math.exp(row[j] - max);
    const logZ = Math.log(z);
    let h = 0;
    for (let j = 0; j < C; j++) {
      logp[j] = row[j] - max - logZ;
      p[j] = Math.exp(logp[j]);
      h -= p[j] * logp[j];
    }
    total += h;
    for (let j = 0; j < C; j++) grad.data[i * C + j] = (-p[j] * (logp[j] + h)) / N;
  }
  return { loss: N > 0 ? total / N : 0, grad };
}

function trainArch(predictor: Predictor): TrainArch {
  const m = predictor.model;
  if (m.kind === "cifar_resnet") {
    const config = (m as ResNet).config;
    if (config.block !== "basic") throw new ModelError(`tent: only the CIFAR ResNet with basic blocks is supported, got ${config.block}`);
    return { kind: "cifar_resnet", config };
  }
  if (m.kind === "vit") return { kind: "vit", config: (m as VisionTransformer).config };
  throw new ModelError(`tent: model kind '${m.kind}' has no differentiable forward (CIFAR ResNet and ViT only)`);
}

export class Tent implements Adapter {
  readonly name = "tent";
  readonly config: TentConfig;
  private readonly counter: PassCounter;
  private readonly train: TrainModel;
  /** Trainable affine names (`<norm>.weight`, `<norm>.bias`) in norm-layer order. */
  private readonly names: string[];
  private readonly source = new Map<string, Float32Array>();
  private readonly affine = new Map<string, Var>();
  private readonly momentumBuf = new Map<string, Float32Array>();
  private steps = 0;
  private lastLoss = Number.NaN;
  /** Largest tape (activations kept for backward) of one batch so far, bytes. */
  private peakTapeBytes = 0;
  /** Whether the forward runs a QuantizedModel's simulated mode with the straight-through estimator. */
  readonly ste: boolean;

  constructor(
    readonly predictor: Predictor,
    config: Partial<TentConfig> = {},
  ) {
    const quant = predictor.layers ? quantizedModelOf(predictor.layers) : null;
    if (predictor.layers && !quant) throw new ModelError(TENT_LAYERS_ERROR);
    if (quant && quant.quantized.model !== predictor.model) throw new ModelError("tent: the predictor's layers belong to another model's QuantizedModel");
    this.ste = quant !== null;
    this.config = { ...TENT_DEFAULTS, ...config };
    this.counter = new PassCounter(predictor);
    const arch = trainArch(predictor);
    const model = predictor.model;
    this.names = model.normLayers.flatMap((l) => [`${l.name}.weight`, `${l.name}.bias`]);
    const trainable = new Set(this.names);
    const params = new Map<string, Var>();
    for (const [name, shape] of paramSpec(arch)) {
      if (name.endsWith(".running_mean") || name.endsWith(".running_var")) continue;
      const t = model.params.get(name, shape);
      if (trainable.has(name)) {
        this.source.set(name, Float32Array.from(t.data));
        const v = param(new Tensor(t.shape, Float32Array.from(t.data)));
        this.affine.set(name, v);
        this.momentumBuf.set(name, new Float32Array(t.size));
        params.set(name, v);
      } else {
        params.set(name, constant(t)); // shares the model's storage; constants are never written
      }
    }
    for (const n of this.names) if (!this.affine.has(n)) throw new ModelError(`tent: norm parameter '${n}' not in the architecture spec`);
    // No running statistics: BatchNorm uses (and cannot update) anything but the batch's statistics.
    this.train = { arch, params, buffers: new Map(), ...(quant ? { layers: simulatedTrainLayers(quant.quantized) } : {}) };
  }

  forward(x: Tensor): Tensor {
    return this.counter.batch(() => {
      this.counter.passes++;
      const logits = trainForward(this.train, constant(x), true);
      const { loss, grad } = meanEntropyAndGrad(logits.value);
      this.peakTapeBytes = Math.max(this.peakTapeBytes, tapeBytes(logits));
      for (const v of this.affine.values()) v.grad = null;
      backward(logits, grad);
      this.step();
      this.lastLoss = loss;
      return logits.value;
    });
  }

  /** torch.optim.SGD without weight decay or dampening: buf = mu buf + g; p -= lr buf. */
  private step(): void {
    const { lr, momentum } = this.config;
    for (const [name, v] of this.affine) {
      const g = v.grad?.data;
      if (!g) continue;
      const p = v.value.data;
      const buf = this.momentumBuf.get(name)!;
      for (let i = 0; i < p.length; i++) {
        const b = momentum * buf[i] + g[i];
        buf[i] = b;
        p[i] -= lr * b;
      }
      v.grad = null;
    }
    this.steps++;
  }

  /** The current (adapted) affine of norm layer `name`'s parameter, e.g. "bn1.bias" (a copy). */
  affineValue(name: string): Float32Array {
    const v = this.affine.get(name);
    if (!v) throw new ModelError(`tent: no trainable parameter '${name}'`);
    return Float32Array.from(v.value.data);
  }

  reset(): void {
    for (const [name, v] of this.affine) {
      v.value.data.set(this.source.get(name)!);
      v.grad = null;
      this.momentumBuf.get(name)!.fill(0);
    }
    this.steps = 0;
    this.lastLoss = Number.NaN;
    this.peakTapeBytes = 0;
    this.counter.reset();
  }

  stats(): AdapterStats {
    let values = 0;
    for (const v of this.affine.values()) values += v.value.size;
    return {
      forwardPasses: this.counter.passes,
      batches: this.counter.batches,
      seconds: this.counter.seconds,
      adapterBytes: values * 2 * 4 + this.peakTapeBytes, // affine + momentum (float32) + the largest tape
      extra: {
        backwardPasses: this.counter.batches,
        steps: this.steps,
        trainableParams: values,
        tapeBytes: this.peakTapeBytes,
        ste: this.ste ? 1 : 0,
        ...(Number.isFinite(this.lastLoss) ? { lastEntropy: this.lastLoss } : {}),
      },
    };
  }

  /** Tensors: tent.affine.<name> and tent.momentum.<name> for each trainable parameter. */
  save(): AdapterState {
    const tensors: Record<string, WritableTensor> = {};
    for (const [name, v] of this.affine) {
      tensors[`tent.affine.${name}`] = { dtype: "F32", shape: [...v.shape], data: Float32Array.from(v.value.data) };
      tensors[`tent.momentum.${name}`] = { dtype: "F32", shape: [...v.shape], data: Float32Array.from(this.momentumBuf.get(name)!) };
    }
    const meta: TentMeta = { format: "tent/1", names: this.names, steps: this.steps, config: this.config };
    return { tensors, metadata: { adapter: this.name, tent: JSON.stringify(meta) } };
  }

  load(state: AdapterState): void {
    const raw = state.metadata.tent;
    if (!raw) throw new ModelError("Tent.load: missing metadata 'tent'");
    const meta = JSON.parse(raw) as TentMeta;
    if (meta.format !== "tent/1" || meta.names.length !== this.names.length || meta.names.some((n, i) => n !== this.names[i])) {
      throw new ModelError(`Tent.load: state (${meta.format}, ${meta.names?.length} parameters) does not match this model (${this.names.length} parameters)`);
    }
    const get = (key: string, size: number): ArrayLike<number> => {
      const t = state.tensors[key];
      if (!t) throw new ModelError(`Tent.load: missing tensor '${key}'`);
      const d = t.data as ArrayLike<number>;
      if (d.length !== size) throw new ModelError(`Tent.load: tensor '${key}' has ${d.length} values, expected ${size}`);
      return d;
    };
    for (const [name, v] of this.affine) {
      const a = get(`tent.affine.${name}`, v.value.size);
      const m = get(`tent.momentum.${name}`, v.value.size);
      v.value.data.set(Float32Array.from(a));
      this.momentumBuf.get(name)!.set(Float32Array.from(m));
      v.grad = null;
    }
    this.steps = meta.steps;
  }
}
