// T3A: test-time classifier adjustment (Iwasawa & Matsuo, NeurIPS 2021; zoa-method.md section 8), backprop-free,
// exactly one forward pass per batch. The model is untouched; only a support set of features is kept:
//   warm-up: one support per class, the head's weight row w_c (label c, entropy of head(w_c), as the reference);
//   per batch: z = features.final [N, D]; pseudo-label and entropy from the head's logits (the reference's
//   `self.classifier(z)`; config "prototypes" uses the current prototype classifier instead); append to the
//   supports; keep per class the filterK (20) lowest-entropy supports (stable: ties keep the older one);
//   prototype_c = normalise(sum over class-c supports of s / ||s||); logits = z @ prototypes^T (no bias).
// The prediction for a batch uses the supports updated with that batch (the reference's order), still one pass.
// NOTE: like the reference, z is not normalised in the returned logits (argmax is the same as with cosine logits).
import type { WritableTensor } from "../io/safetensors.js";
import { ModelError } from "../models/params.js";
import { Tensor } from "../tensor/tensor.js";
import { type Adapter, type AdapterState, type AdapterStats, PassCounter, type Predictor } from "./adapter.js";

export interface T3AConfig {
  /** Supports kept per class (the paper's filter K). */
  filterK: number;
  /** Where pseudo-labels and their entropies come from: the head (reference) or the current prototypes. */
  pseudoLabels: "head" | "prototypes";
}

export const T3A_DEFAULTS: T3AConfig = { filterK: 20, pseudoLabels: "head" };

interface Support {
  z: Float32Array; // [D]
  /** Softmax entropy of the logits that labelled it, rounded to float32 (so a saved state resumes exactly). */
  entropy: number;
}

interface T3AMeta {
  format: "t3a/1";
  classes: number;
  dim: number;
  config: T3AConfig;
}

/** Softmax entropy of each row of logits [N, K]. */
function rowEntropies(logits: Tensor): Float64Array {
  const [N, K] = logits.shape;
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const row = logits.data.subarray(n * K, (n + 1) * K);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let z = 0;
    for (const v of row) z += Math.exp(v - max);
    const logZ = Math.log(z);
    let h = 0;
    for (const v of row) h -= Math.exp(v - max - logZ) * (v - max - logZ);
    out[n] = h;
  }
  return out;
}

function rowArgmax(logits: Tensor, n: number): number {
  const K = logits.shape[1];
  let best = 0;
  for (let k = 1; k < K; k++) if (logits.data[n * K + k] > logits.data[n * K + best]) best = k;
  return best;
}

export class T3A implements Adapter {
  readonly name = "t3a";
  readonly config: T3AConfig;
  private readonly counter: PassCounter;
  private readonly numClasses: number;
  private readonly dim: number;
  /** supports[c]: class c's supports, lowest entropy first. */
  private supports: Support[][] = [];

  constructor(
    readonly predictor: Predictor,
    config: Partial<T3AConfig> = {},
  ) {
    this.config = { ...T3A_DEFAULTS, ...config };
    if (!Number.isInteger(this.config.filterK) || this.config.filterK < 1) throw new RangeError(`T3A: filterK must be a positive integer, got ${this.config.filterK}`);
    const model = predictor.model;
    const w = model.params.get(`${model.headName}.weight`); // [classes, D]
    [this.numClasses, this.dim] = w.shape;
    this.counter = new PassCounter(predictor);
    this.reset();
  }

  /** Warm-up supports: the head's weight rows, each labelled with its class. */
  private warmUp(): Support[][] {
    const model = this.predictor.model;
    const w = model.params.get(`${model.headName}.weight`);
    const ent = rowEntropies(model.headLogits(w, this.predictor.layers));
    return Array.from({ length: this.numClasses }, (_, c) => [{ z: w.data.slice(c * this.dim, (c + 1) * this.dim), entropy: Math.fround(ent[c]) }]);
  }

  /** Normalised prototypes [classes, D] from the supports (zero rows for classes without supports). */
  prototypes(): Float32Array {
    const D = this.dim;
    const out = new Float32Array(this.numClasses * D);
    const acc = new Float64Array(D);
    this.supports.forEach((list, c) => {
      acc.fill(0);
      for (const s of list) {
        let norm = 0;
        for (let d = 0; d < D; d++) norm += s.z[d] * s.z[d];
        norm = Math.max(Math.sqrt(norm), 1e-12); // torch.nn.functional.normalize's eps
        for (let d = 0; d < D; d++) acc[d] += s.z[d] / norm;
      }
      let norm = 0;
      for (let d = 0; d < D; d++) norm += acc[d] * acc[d];
      norm = Math.max(Math.sqrt(norm), 1e-12);
      for (let d = 0; d < D; d++) out[c * D + d] = acc[d] / norm;
    });
    return out;
  }

  /** z [N, D] @ prototypes^T -> [N, classes]. */
  private prototypeLogits(z: Tensor, protos: Float32Array): Tensor {
    const [N, D] = z.shape;
    const K = this.numClasses;
    const out = new Float32Array(N * K);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += z.data[n * D + d] * protos[k * D + d];
        out[n * K + k] = s;
      }
    }
    return new Tensor([N, K], out);
  }

  forward(x: Tensor): Tensor {
    return this.counter.batch(() => {
      const r = this.counter.run(x);
      const z = r.features.final; // [N, D]
      const labelLogits = this.config.pseudoLabels === "head" ? r.logits : this.prototypeLogits(z, this.prototypes());
      const ent = rowEntropies(labelLogits);
      const N = z.shape[0];
      for (let n = 0; n < N; n++) {
        const c = rowArgmax(labelLogits, n);
        this.supports[c].push({ z: z.data.slice(n * this.dim, (n + 1) * this.dim), entropy: Math.fround(ent[n]) });
      }
      this.filter();
      return this.prototypeLogits(z, this.prototypes());
    });
  }

  /** Keeps per class the filterK lowest-entropy supports (Array.prototype.sort is stable). */
  private filter(): void {
    for (let c = 0; c < this.numClasses; c++) {
      const list = this.supports[c];
      list.sort((a, b) => a.entropy - b.entropy);
      if (list.length > this.config.filterK) list.length = this.config.filterK;
    }
  }

  /** Number of supports per class. */
  supportCounts(): number[] {
    return this.supports.map((l) => l.length);
  }

  reset(): void {
    this.supports = this.warmUp();
    this.counter.reset();
  }

  stats(): AdapterStats {
    const count = this.supports.reduce((s, l) => s + l.length, 0);
    return {
      forwardPasses: this.counter.passes,
      batches: this.counter.batches,
      seconds: this.counter.seconds,
      // Each support: D floats + its entropy + its label.
      adapterBytes: count * (this.dim + 2) * 4,
      extra: { supports: count, filterK: this.config.filterK },
    };
  }

  /** Tensors: t3a.supports [M, D], t3a.labels [M], t3a.entropy [M] (class order, lowest entropy first). */
  save(): AdapterState {
    const all = this.supports.flatMap((l, c) => l.map((s) => ({ ...s, c })));
    const z = new Float32Array(all.length * this.dim);
    all.forEach((s, i) => z.set(s.z, i * this.dim));
    const tensors: Record<string, WritableTensor> = {
      "t3a.supports": { dtype: "F32", shape: [all.length, this.dim], data: z },
      "t3a.labels": { dtype: "I32", shape: [all.length], data: Int32Array.from(all, (s) => s.c) },
      "t3a.entropy": { dtype: "F32", shape: [all.length], data: Float32Array.from(all, (s) => s.entropy) },
    };
    const meta: T3AMeta = { format: "t3a/1", classes: this.numClasses, dim: this.dim, config: this.config };
    return { tensors, metadata: { adapter: this.name, t3a: JSON.stringify(meta) } };
  }

  load(state: AdapterState): void {
    const raw = state.metadata.t3a;
    if (!raw) throw new ModelError("T3A.load: missing metadata 't3a'");
    const meta = JSON.parse(raw) as T3AMeta;
    if (meta.format !== "t3a/1" || meta.classes !== this.numClasses || meta.dim !== this.dim) {
      throw new ModelError(`T3A.load: state for ${meta.classes} classes x ${meta.dim} dims (${meta.format}), model has ${this.numClasses} x ${this.dim}`);
    }
    const get = (name: string): ArrayLike<number> => {
      const t = state.tensors[name];
      if (!t) throw new ModelError(`T3A.load: missing tensor '${name}'`);
      return t.data as ArrayLike<number>;
    };
    const z = get("t3a.supports");
    const labels = get("t3a.labels");
    const ent = get("t3a.entropy");
    const M = labels.length;
    if (ent.length !== M || z.length !== M * this.dim) throw new ModelError(`T3A.load: ${M} labels, ${ent.length} entropies, ${z.length} support values (dim ${this.dim})`);
    const supports: Support[][] = Array.from({ length: this.numClasses }, () => []);
    for (let i = 0; i < M; i++) {
      const c = Math.round(Number(labels[i]));
      if (!(c >= 0 && c < this.numClasses)) throw new ModelError(`T3A.load: support ${i} has label ${labels[i]}`);
      supports[c].push({ z: Float32Array.from({ length: this.dim }, (_, d) => z[i * this.dim + d]), entropy: Math.fround(Number(ent[i])) });
    }
    this.supports = supports;
  }
}
