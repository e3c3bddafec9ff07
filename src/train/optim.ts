// Optimizers over named parameters, with PyTorch's update rules, state in float32 beside each parameter:
// SGD:   g = grad + wd p;  buf = mu buf + g;  p -= lr (nesterov ? g + mu buf : buf)        (torch.optim.SGD)
// AdamW: p -= lr wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//        p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)       (Loshchilov & Hutter 2019; torch.optim.AdamW)
// Weight decay applies only to the parameters `decays(name, shape)` selects (models.ts: not norms, biases, embeddings).
import type { Var } from "./autograd.js";

export type OptimizerConfig =
  | { kind: "sgd"; lr: number; momentum: number; nesterov: boolean; weightDecay: number }
  | { kind: "adamw"; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** One update of every parameter with a gradient, at learning rate `lr` (the schedule's value). */
  step(lr: number): void;
  /** Clears every parameter's gradient (before the next backward). */
  zeroGrad(): void;
}

interface Slot {
  name: string;
  param: Var;
  decay: boolean;
  /** SGD: momentum buffer; AdamW: first moment. */
  m: Float32Array;
  /** AdamW: second moment (empty for SGD). */
  v: Float32Array;
}

/** @example const opt = makeOptimizer({ kind: "sgd", lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }, model.params, decays) */
export function makeOptimizer(config: OptimizerConfig, params: ReadonlyMap<string, Var>, decays: (name: string, shape: readonly number[]) => boolean): Optimizer {
  const slots: Slot[] = [...params].map(([name, param]) => ({
    name,
    param,
    decay: config.weightDecay > 0 && decays(name, param.shape),
    m: new Float32Array(param.value.size),
    v: new Float32Array(config.kind === "adamw" ? param.value.size : 0),
  }));
  let t = 0;
  return {
    config,
    zeroGrad() {
      for (const s of slots) s.param.grad = null;
    },
    step(lr: number) {
      t++;
      for (const s of slots) {
        const g = s.param.grad?.data;
        if (!g) continue;
        const p = s.param.value.data;
        if (config.kind === "sgd") sgdUpdate(p, g, s, lr, config);
        else adamwUpdate(p, g, s, lr, t, config);
      }
    },
  };
}

function sgdUpdate(p: Float32Array, g: Float32Array, s: Slot, lr: number, c: Extract<OptimizerConfig, { kind: "sgd" }>): void {
  const wd = s.decay ? c.weightDecay : 0;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] + wd * p[i];
    const buf = c.momentum * s.m[i] + gi;
    s.m[i] = buf;
    p[i] -= lr * (c.nesterov ? gi + c.momentum * buf : buf);
  }
}

function adamwUpdate(p: Float32Array, g: Float32Array, s: Slot, lr: number, t: number, c: Extract<OptimizerConfig, { kind: "adamw" }>): void {
  const decay = s.decay ? 1 - lr * c.weightDecay : 1;
  const bc1 = 1 - c.beta1 ** t;
  const bc2 = 1 - c.beta2 ** t;
  for (let i = 0; i < p.length; i++) {
    const m = c.beta1 * s.m[i] + (1 - c.beta1) * g[i];
    const v = c.beta2 * s.v[i] + (1 - c.beta2) * g[i] * g[i];
    s.m[i] = m;
    s.v[i] = v;
    p[i] = p[i] * decay - (lr * (m / bc1)) / (Math.sqrt(v / bc2) + c.eps);
  }
}

/**
 * Cosine decay from `baseLr` to `minLr` after a linear warm-up over `warmupSteps` (Goyal et al. 2017; Loshchilov &
 * Hutter 2017, no restarts). `step` counts from 0; the first warm-up step uses baseLr / warmupSteps.
 */
export function cosineLr(step: number, totalSteps: number, warmupSteps: number, baseLr: number, minLr = 0): number {
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / span);
  return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
}
