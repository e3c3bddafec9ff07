// FOA: forward-only test-time adaptation (Niu et al., ICML 2024; zoa-method.md sections 7 and 8).
// A prompt is optimised by CMA-ES (./cmaes.ts: mean 0, sigma 1, C = I) with population 28 = 27 sampled + the
// previous best, so exactly 28 forward passes per batch:
//   ViT: 3 prompt tokens [3, D] inserted after the class token (3 x D dims: 384 on the CIFAR ViT -> full CMA,
//        2304 on ViT-B -> sep-CMA, see FULL_CMA_MAX_DIM).
//   ResNet: an additive input prompt, parameterised as a 3 x g x g grid (g = 8: 192 dims) bilinearly upsampled
//        (align_corners = false) to [3, H, W] and added to every normalised image; BatchNorm uses the current
//        batch's statistics by default (as NormAdapt and ZOA-ResNet; `bnStats: "running"` for the deployed ones).
// fitness = lambda * sum over blocks (ViT: the CLS feature of each block, D dims each; ResNet: each stage's pooled
//   feature) of (||mu_batch - mu_S||_2 + ||sigma_batch - sigma_S||_2) + entropy summed over the batch,
//   lambda = 0.4 * N / 64; entropy of the un-shifted logits.
// Predict-then-adapt: the batch's prediction is the pass with the previous best prompt (candidate 0), made before
// CMA-ES sees the batch; activation shifting on it: logits = head(f + gamma (mu_S - mu_hist)), mu_hist an EMA
// (0.9 old + 0.1 new) of that pass's head-input batch means, no shift on the first batch.
// The next batch's prompt is the lowest-fitness candidate of this batch.
import type { WritableTensor } from "../io/safetensors.js";
import type { ForwardResult } from "../models/model.js";
import { ModelError } from "../models/params.js";
import { Tensor } from "../tensor/tensor.js";
import { type Adapter, type AdapterState, type AdapterStats, PassCounter, type Predictor } from "./adapter.js";
import { CmaEs, type CmaEsState, type CmaVariant } from "./cmaes.js";
import { type SourceStats, batchMean, featureGroups, meanEntropy, moments, shiftFeatures } from "./features.js";

export interface FoaConfig {
  seed: number;
  /** CMA-ES population including the previous best (28 = 27 sampled + 1): the forward passes per batch. */
  popsize: number;
  /** ViT: prompt tokens inserted after the class token. */
  prompts: number;
  /** Fitness weight of the statistics term for a batch of 64; scaled by N / 64. */
  lambdaPer64: number;
  activationShift: boolean;
  /** gamma of the activation shift. */
  shiftGamma: number;
  /** EMA factor of the shift history (old weight). */
  shiftMomentum: number;
  /** ResNet: side g of the 3 x g x g input-prompt grid. */
  grid: number;
  /** ResNet: BatchNorm statistics in every pass. */
  bnStats: "running" | "batch";
  /** CMA-ES start step size. */
  sigma0: number;
  /** CMA-ES covariance: "auto" = full up to 512 dims, diagonal (sep-CMA) above. */
  cma: CmaVariant | "auto";
}

export const FOA_DEFAULTS: FoaConfig = {
  seed: 0,
  popsize: 28,
  prompts: 3,
  lambdaPer64: 0.4,
  activationShift: true,
  shiftGamma: 1,
  shiftMomentum: 0.9,
  grid: 8,
  bnStats: "batch",
  sigma0: 1,
  cma: "auto",
};

interface FoaMeta {
  format: "foa/1";
  dim: number;
  variant: CmaVariant;
  config: FoaConfig;
  batchIndex: number;
  sigma: number;
  generation: number;
  eigenGeneration: number;
  bestFitness: number | null;
}

/**
 * Bilinear upsampling (align_corners = false, as torch's F.interpolate) of a [C, g, g] grid to [C, H, W].
 * @example upsampleGrid(Float32Array.of(1), 1, 1, 4, 4) // 16 ones
 */
export function upsampleGrid(grid: Float32Array, channels: number, g: number, H: number, W: number): Float32Array {
  const axis = (out: number) =>
    Array.from({ length: out }, (_, o) => {
      const src = Math.max(0, ((o + 0.5) * g) / out - 0.5);
      const i0 = Math.min(Math.floor(src), g - 1);
      const i1 = i0 < g - 1 ? i0 + 1 : i0;
      const t = src - i0;
      return { i0, i1, t };
    });
  const ys = axis(H);
  const xs = axis(W);
  const out = new Float32Array(channels * H * W);
  for (let c = 0; c < channels; c++) {
    const base = c * g * g;
    for (let h = 0; h < H; h++) {
      const { i0: y0, i1: y1, t: ty } = ys[h];
      for (let w = 0; w < W; w++) {
        const { i0: x0, i1: x1, t: tx } = xs[w];
        const top = (1 - tx) * grid[base + y0 * g + x0] + tx * grid[base + y0 * g + x1];
        const bottom = (1 - tx) * grid[base + y1 * g + x0] + tx * grid[base + y1 * g + x1];
        out[(c * H + h) * W + w] = (1 - ty) * top + ty * bottom;
      }
    }
  }
  return out;
}

export class Foa implements Adapter {
  readonly name = "foa";
  readonly config: FoaConfig;
  /** Prompt dimensions: ViT prompts x D, ResNet 3 x grid x grid. */
  readonly dim: number;
  private readonly vit: boolean;
  /** Feature dims per discrepancy block (ViT: D, one segment per block; ResNet: one per stage). */
  private readonly blockDim: number;
  private readonly counter: PassCounter;
  private es: CmaEs;
  /** The prompt used for the next batch's prediction (the last batch's lowest-fitness candidate). */
  bestPrompt: Float32Array;
  /** EMA of head-input batch means; null before the first batch. */
  hist: Float32Array | null = null;
  batchIndex = 0;
  /** Fitness of the prediction pass and the best fitness of the last batch. */
  lastFitness = { prediction: NaN, best: NaN };

  constructor(
    readonly predictor: Predictor,
    readonly source: SourceStats,
    config: Partial<FoaConfig> = {},
  ) {
    this.config = { ...FOA_DEFAULTS, ...config };
    if (!Number.isInteger(this.config.popsize) || this.config.popsize < 2) throw new RangeError(`FOA: popsize must be an integer >= 2, got ${this.config.popsize}`);
    const model = predictor.model;
    this.vit = model.kind === "vit";
    const D = source.finalMean.length;
    this.dim = this.vit ? this.config.prompts * D : 3 * this.config.grid * this.config.grid;
    this.blockDim = this.vit ? D : 0;
    if (this.vit && source.groups[0].mean.length % D !== 0) throw new ModelError(`FOA: ViT source statistics have ${source.groups[0].mean.length} dims, not a multiple of D = ${D}`);
    this.counter = new PassCounter(predictor);
    this.es = this.newStrategy();
    this.bestPrompt = this.es.mean;
  }

  private newStrategy(): CmaEs {
    const c = this.config;
    return new CmaEs({ dim: this.dim, lambda: c.popsize, seed: c.seed, sigma0: c.sigma0, variant: c.cma });
  }

  get variant(): CmaVariant {
    return this.es.variant;
  }

  get generation(): number {
    return this.es.generation;
  }

  /** One forward pass with prompt p (ViT: prompt tokens; ResNet: upsampled grid added to x). */
  private pass(x: Tensor, p: Float32Array): ForwardResult {
    if (this.vit) return this.counter.run(x, { promptTokens: new Tensor([this.config.prompts, this.dim / this.config.prompts], p) });
    const [N, C, H, W] = x.shape;
    const pattern = upsampleGrid(p, C, this.config.grid, H, W);
    const shifted = new Float32Array(x.size);
    const per = C * H * W;
    for (let n = 0; n < N; n++) for (let i = 0; i < per; i++) shifted[n * per + i] = x.data[n * per + i] + pattern[i];
    return this.counter.run(new Tensor(x.shape, shifted), { bnStats: this.config.bnStats });
  }

  /** lambda * sum over blocks of (||mu - mu_S|| + ||sigma - sigma_S||) + summed entropy. */
  fitness(r: ForwardResult): number {
    const N = r.logits.shape[0];
    let disc = 0;
    featureGroups(r.features).forEach((g, i) => {
      const m = moments(g);
      const src = this.source.groups[i];
      const seg = this.blockDim || m.mean.length;
      for (let start = 0; start < m.mean.length; start += seg) {
        let dm = 0;
        let ds = 0;
        for (let d = start; d < start + seg; d++) {
          dm += (m.mean[d] - src.mean[d]) ** 2;
          ds += (m.std[d] - src.std[d]) ** 2;
        }
        disc += Math.sqrt(dm) + Math.sqrt(ds);
      }
    });
    const lambda = (this.config.lambdaPer64 * N) / 64;
    return lambda * disc + meanEntropy(r.logits) * N;
  }

  forward(x: Tensor): Tensor {
    return this.counter.batch(() => this.step(x));
  }

  private step(x: Tensor): Tensor {
    const cfg = this.config;
    // Candidate 0 is the previous best: its pass gives the prediction, before the strategy sees this batch.
    const candidates = [this.bestPrompt, ...this.es.ask(cfg.popsize - 1)];
    const fitnesses: number[] = [];
    let prediction: Tensor | null = null;
    let headMean: Float32Array | null = null;
    for (let j = 0; j < candidates.length; j++) {
      const r = this.pass(x, candidates[j]);
      fitnesses.push(this.fitness(r));
      if (j === 0) {
        prediction = cfg.activationShift && this.hist ? this.counter.head(this.shifted(r.features.final, this.hist)) : r.logits;
        headMean = batchMean(r.features.final);
      }
    }
    this.es.tell(candidates, fitnesses);
    let best = 0;
    for (let j = 1; j < fitnesses.length; j++) if (fitnesses[j] < fitnesses[best]) best = j;
    this.bestPrompt = candidates[best].slice();
    this.lastFitness = { prediction: fitnesses[0], best: fitnesses[best] };
    if (cfg.activationShift && headMean) {
      const m = headMean;
      if (!this.hist) this.hist = m;
      else for (let d = 0; d < m.length; d++) this.hist[d] = cfg.shiftMomentum * this.hist[d] + (1 - cfg.shiftMomentum) * m[d];
    }
    this.batchIndex++;
    return prediction!;
  }

  /** f + gamma (mu_S - hist), via shiftFeatures with hist' = mu_S - gamma (mu_S - hist). */
  private shifted(final: Tensor, hist: Float32Array): Tensor {
    const src = this.source.finalMean;
    const g = this.config.shiftGamma;
    return shiftFeatures(final, src, g === 1 ? hist : hist.map((h, d) => src[d] - g * (src[d] - h)));
  }

  reset(): void {
    this.es = this.newStrategy();
    this.bestPrompt = this.es.mean;
    this.hist = null;
    this.batchIndex = 0;
    this.lastFitness = { prediction: NaN, best: NaN };
    this.counter.reset();
  }

  stats(): AdapterStats {
    return {
      forwardPasses: this.counter.passes,
      batches: this.counter.batches,
      seconds: this.counter.seconds,
      adapterBytes: this.es.stateBytes() + this.bestPrompt.length * 4 + (this.hist ? this.hist.length * 4 : 0),
      extra: {
        promptDims: this.dim,
        fullCovariance: this.es.variant === "full" ? 1 : 0,
        generation: this.es.generation,
        sigma: this.es.sigma,
        bestFitness: this.lastFitness.best,
      },
    };
  }

  /**
   * Tensors: foa.cma.{mean, ps, pc, cov, scales} (+ basis for full CMA, best), foa.prompt, foa.shift.hist;
   * metadata foa: sigma, counters and config as JSON (exact numbers).
   */
  save(): AdapterState {
    const s = this.es.exportState();
    const f32 = (d: Float32Array): WritableTensor => ({ dtype: "F32", shape: [d.length], data: d });
    const tensors: Record<string, WritableTensor> = {
      "foa.cma.mean": f32(s.mean),
      "foa.cma.ps": f32(s.ps),
      "foa.cma.pc": f32(s.pc),
      "foa.cma.cov": { dtype: "F32", shape: s.basis.length ? [this.dim, this.dim] : [this.dim], data: s.cov },
      "foa.cma.scales": f32(s.scales),
      "foa.prompt": f32(this.bestPrompt.slice()),
    };
    if (s.basis.length) tensors["foa.cma.basis"] = { dtype: "F32", shape: [this.dim, this.dim], data: s.basis };
    if (s.best) tensors["foa.cma.best"] = f32(s.best.x);
    if (this.hist) tensors["foa.shift.hist"] = f32(this.hist.slice());
    const meta: FoaMeta = {
      format: "foa/1",
      dim: this.dim,
      variant: this.es.variant,
      config: this.config,
      batchIndex: this.batchIndex,
      sigma: s.sigma,
      generation: s.generation,
      eigenGeneration: s.eigenGeneration,
      bestFitness: s.best && Number.isFinite(s.best.f) ? s.best.f : null,
    };
    return { tensors, metadata: { adapter: this.name, foa: JSON.stringify(meta) } };
  }

  load(state: AdapterState): void {
    const raw = state.metadata.foa;
    if (!raw) throw new ModelError("FOA.load: missing metadata 'foa'");
    const meta = JSON.parse(raw) as FoaMeta;
    if (meta.format !== "foa/1" || meta.dim !== this.dim || meta.variant !== this.es.variant) {
      throw new ModelError(`FOA.load: state for ${meta.dim} dims (${meta.variant} CMA, ${meta.format}), adapter has ${this.dim} (${this.es.variant})`);
    }
    const get = (name: string): Float32Array => {
      const t = state.tensors[name];
      if (!t) throw new ModelError(`FOA.load: missing tensor '${name}'`);
      return Float32Array.from(t.data as ArrayLike<number>);
    };
    const has = (name: string) => state.tensors[name] !== undefined;
    const s: CmaEsState = {
      mean: get("foa.cma.mean"),
      ps: get("foa.cma.ps"),
      pc: get("foa.cma.pc"),
      cov: get("foa.cma.cov"),
      basis: has("foa.cma.basis") ? get("foa.cma.basis") : new Float32Array(0),
      scales: get("foa.cma.scales"),
      sigma: meta.sigma,
      generation: meta.generation,
      eigenGeneration: meta.eigenGeneration,
      best: has("foa.cma.best") ? { x: get("foa.cma.best"), f: meta.bestFitness ?? Infinity } : null,
    };
    this.es.importState(s);
    const prompt = get("foa.prompt");
    if (prompt.length !== this.dim) throw new ModelError(`FOA.load: prompt has ${prompt.length} values, expected ${this.dim}`);
    this.bestPrompt = prompt;
    this.hist = has("foa.shift.hist") ? get("foa.shift.hist") : null;
    this.batchIndex = meta.batchIndex;
  }
}
