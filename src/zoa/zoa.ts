// ZOA: zeroth-order test-time adaptation of a quantized model (Deng et al., ACM MM 2025; zoa-method.md).
// Per batch, exactly two forward passes:
//   1. clean pass with v = (alpha, thetaTilde): prediction (activation-shifted), loss L2, shift detection;
//   2. perturbed pass with v + c*u, u_i = +-U[0.5, 1]: loss L1;
//   g_i = (L1 - L2) / (c_i u_i)  (one-sided SPSA);
//   thetaTilde -= lr * (g + wd * thetaTilde);  alpha -= 0.01 * sign(g_alpha) + 0.01 * 0.1 * alpha (N >= 1).
// L = lambda * D(feature statistics vs source) + mean entropy. ResNets normalise with batch statistics.
// reference: zoa-method.md sections 3-7; variants beyond the paper are selected by ZoaConfig.variant.
import { type BnMoments, type BnPrior, type Classifier, type ForwardResult, blendMoments } from "../models/model.js";
import type { Rng } from "../tensor/rng.js";
import { add, mul } from "../tensor/ops/elementwise.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Adapter, type AdapterState, type AdapterStats, PassCounter, type Predictor } from "./adapter.js";
import { KnowledgeBank, type SlotStorage } from "./bank.js";
import { type SourceStats, batchMean, meanEntropy, shiftFeatures, statDiscrepancy } from "./features.js";
import { type LayerChoice, adaptedLayers } from "./layer_choice.js";
import { batchRng, segmentedUniform } from "./perturb.js";
import { groupLosses, groupMembers, perSampleOverrides } from "./population.js";
import { mirrorImages } from "./mirror.js";
import { ShiftDetector } from "./shift_detector.js";
import { bankFromState, bankToState } from "./zoa_state.js";

export type ZoaVariant = string;

/** BN statistics of one step (statsMomentum > 0): the prior both passes blend in, the clean pass's own statistics. */
interface StepStats {
  prior: Map<string, BnPrior> | undefined;
  batch?: Map<string, BnMoments>;
  collect?: (name: string, m: BnMoments) => void;
}

export interface ZoaConfig {
  variant: ZoaVariant;
  /** Weight of the statistics discrepancy: 30 (ViT), 1 (ResNet). */
  lambda: number;
  /** SPSA step for thetaTilde: 0.02 (ViT), 0.01 (ResNet). */
  c: number;
  /** SPSA step for alpha. */
  cAlpha: number;
  /** SGD learning rate of thetaTilde. */
  lr: number;
  /** L2 weight decay on thetaTilde (pulls it toward the fused knowledge). */
  weightDecay: number;
  /** Sign-step size of alpha, and its decoupled decay factor. */
  alphaLr: number;
  alphaDecay: number;
  /** Symmetric-KL threshold of the shift detector: 0.1 (ViT), 0.2 (ResNet). */
  threshold: number;
  maxSlots: number;
  maxBytes?: number;
  slotStorage: SlotStorage;
  activationShift: boolean;
  /** EMA factor of the activation-shift history (old weight). */
  shiftMomentum: number;
  /** EMA of the SPSA estimates across batches (0 = spec: each batch's estimate alone). */
  gradMomentum: number;
  /** Channels of a norm layer's weight (or bias) sharing one perturbation coordinate (1 = spec). */
  groupSize: number;
  /** Step with the sign of the (averaged) estimate instead of its value (ZO-signSGD). */
  signStep: boolean;
  /**
   * Perturbations per perturbed pass (1 = spec). P > 1: the batch is split into P groups of samples, each with its
   * own perturbation, and the P paired estimates are averaged (population.ts).
   */
  population: number;
  /** Adapted norm layers: the spec's choice (layer_choice.ts) or every norm layer. */
  layers?: LayerChoice;
  /**
   * BatchNorm models only: weight m of the statistics history (0 = spec: each batch's statistics alone). Every BN
   * normalises with (1 - m) * batch + m * history, mean and variance alike; after the step the history becomes
   * that blend (an EMA over the batches of a domain); a detected shift restarts it. Both passes of a step use the
   * same history, so the SPSA difference sees only the perturbation.
   */
  statsMomentum?: number;
  /**
   * The perturbed pass reads the horizontally mirrored batch, and the prediction averages the logits of both passes
   * (each activation-shifted like the clean one): a two-view ensemble at no extra pass, for models trained with
   * random flips. The SPSA difference L1 - L2 then also carries the mirror's loss change (noise of mean ~0 on
   * mirror-symmetric data). Not with population > 1.
   */
  mirror?: boolean;
  seed: number;
}

/** Spec defaults (zoa-method.md), by architecture and bit width. */
export function zoaSpecConfig(model: Classifier, bits: number | null, over: Partial<ZoaConfig> = {}): ZoaConfig {
  const vit = model.kind === "vit";
  const lr = vit ? (bits !== null && bits <= 6 ? 2e-4 : 5e-4) : 1e-4;
  return {
    variant: "spec",
    lambda: vit ? 30 : 1,
    c: vit ? 0.02 : 0.01,
    cAlpha: 0.05,
    lr,
    weightDecay: 0.4,
    alphaLr: 0.01,
    alphaDecay: 0.1,
    threshold: vit ? 0.1 : 0.2,
    maxSlots: 32,
    slotStorage: "f32",
    activationShift: true,
    shiftMomentum: 0.9,
    gradMomentum: 0,
    groupSize: 1,
    signStep: false,
    population: 1,
    seed: 0,
    ...over,
  };
}

export interface ZoaOptions {
  /**
   * Replaces the seeded segmented-uniform draw of u (tests, golden fixtures): returns u for `count` coordinates
   * (alpha first when N >= 1, then each layer's weight and bias groups) of batch index `batch`.
   */
  perturbation?: (count: number, batch: number) => Float32Array;
}

export class Zoa implements Adapter {
  readonly name = "zoa";
  readonly bank: KnowledgeBank;
  readonly detector: ShiftDetector;
  private readonly counter: PassCounter;
  private readonly useBatchStats: boolean;
  /** EMA of batch means of the head input (activation shifting); null right after a reset or a shift. */
  hist: Float32Array | null = null;
  batchIndex = 0;
  shifts = 0;
  private momentum: Float32Array | null = null;
  /** The BN statistics history (statsMomentum > 0), real units, by layer; null until the first step or after a shift. */
  bnHistory: Map<string, BnMoments> | null = null;
  /** Loss of the last clean pass, for reports. */
  lastLoss = NaN;
  /** Loss of the last perturbed pass (L1). */
  lastPerturbedLoss = NaN;

  constructor(
    readonly predictor: Predictor,
    readonly source: SourceStats,
    readonly config: ZoaConfig,
    readonly opts: ZoaOptions = {},
  ) {
    const model = predictor.model;
    const layers = adaptedLayers(model, config.layers ?? "spec").map((n) => ({
      name: n.name,
      channels: n.channels,
      w0: model.params.get(`${n.name}.weight`).data,
      b0: model.params.get(`${n.name}.bias`).data,
    }));
    this.bank = new KnowledgeBank(layers, { maxSlots: config.maxSlots, maxBytes: config.maxBytes, storage: config.slotStorage });
    this.detector = new ShiftDetector(config.threshold);
    this.counter = new PassCounter(predictor);
    this.useBatchStats = model.kind !== "vit";
  }

  private pass(x: Tensor, tildeStep: Float32Array[] | null, alphaStep: number[] | null, stats?: StepStats): ForwardResult {
    return this.counter.run(x, {
      normOverrides: this.bank.overrides(tildeStep, alphaStep),
      bnStats: this.useBatchStats ? "batch" : "running",
      bnPrior: stats?.prior,
      onBnStats: stats?.collect,
    });
  }

  /** The history blended into this step's BN statistics and a collector of the clean pass's own (statsMomentum > 0). */
  private stepStats(): StepStats | undefined {
    const m = this.config.statsMomentum ?? 0;
    if (!(m > 0) || !this.useBatchStats) return undefined;
    const h = this.bnHistory;
    const prior = h ? new Map([...h].map(([name, v]) => [name, { ...v, weight: m }] as const)) : undefined;
    const batch = new Map<string, BnMoments>();
    return { prior, batch, collect: (name, v) => batch.set(name, v) };
  }

  /**
   * history := (1 - m) * batch + m * history (what this step normalised with); the batch's own at the start and
   * after a detected shift (the old domain's statistics are dropped).
   */
  private updateHistory(stats: StepStats, shifted: boolean): void {
    const next = new Map<string, BnMoments>();
    for (const [name, b] of stats.batch ?? []) {
      const h = shifted ? b : blendMoments(b, stats.prior?.get(name));
      // kept at float32 precision, so a saved state (F32 tensors) resumes bit for bit
      next.set(name, { mean: h.mean.map(Math.fround), variance: h.variance.map(Math.fround) });
    }
    this.bnHistory = next;
  }

  private loss(r: ForwardResult): number {
    return this.config.lambda * statDiscrepancy(r.features, this.source) + meanEntropy(r.logits);
  }

  forward(x: Tensor): Tensor {
    return this.counter.batch(() => this.step(x));
  }

  private step(x: Tensor): Tensor {
    const cfg = this.config;
    const b = this.batchIndex++;
    // 1. Clean pass: prediction, loss, shift detection.
    const stats = this.stepStats();
    const clean = this.pass(x, null, null, stats);
    const l2 = this.loss(clean);
    this.lastLoss = l2;
    const obs = this.detector.observeFeatures(clean.features, x.shape[0]);
    if (obs.shifted) {
      this.bank.saveSlot(b);
      this.hist = null;
      this.shifts++;
    }
    const shifted = (r: ForwardResult): Tensor =>
      cfg.activationShift && this.hist ? this.counter.head(shiftFeatures(r.features.final, this.source.finalMean, this.hist)) : r.logits;
    let prediction = shifted(clean);

    // 2. Perturbed pass and the SPSA estimate of every coordinate: alpha (when N >= 1), then one per channel
    // group of every layer's weight and bias (groupSize 1: one per scalar, the spec).
    let est: { alphaGrad: Float32Array; grad: Float32Array } | null;
    if (cfg.population > 1) est = this.populationEstimate(x, clean, b);
    else {
      // both passes blend the same BN statistics prior, so the difference sees only the perturbation
      const spsa = this.spsaEstimate(cfg.mirror ? mirrorImages(x) : x, l2, b, stats ? { prior: stats.prior } : undefined);
      est = spsa.est;
      if (cfg.mirror) {
        prediction = mul(add(prediction, shifted(spsa.perturbed)), 0.5);
      }
    }

    // 3. The update.
    if (est) {
      const { alphaGrad, grad } = est;
      for (let j = 0; j < alphaGrad.length; j++) {
        // The reference uses AdamW with its state cleared every step, which is exactly this sign step
        // plus decoupled decay (zoa-method.md section 5, Decision).
        const a = this.bank.alpha[j];
        this.bank.alpha[j] = Math.fround(a - cfg.alphaLr * Math.sign(alphaGrad[j]) - cfg.alphaLr * cfg.alphaDecay * a);
      }
      const groups = this.groupIndex();
      if (cfg.gradMomentum > 0) {
        if (!this.momentum || this.momentum.length !== groups.count) this.momentum = new Float32Array(groups.count);
        for (let k = 0; k < groups.count; k++) {
          this.momentum[k] = cfg.gradMomentum * this.momentum[k] + (1 - cfg.gradMomentum) * grad[k];
          grad[k] = this.momentum[k];
        }
      }
      if (cfg.signStep) for (let k = 0; k < groups.count; k++) grad[k] = Math.sign(grad[k]);
      this.bank.tilde.forEach((t, l) => {
        const of = groups.of[l];
        for (let i = 0; i < t.length; i++) t[i] -= cfg.lr * (grad[of[i]] + cfg.weightDecay * t[i]);
      });
    }

    // 4. The BN statistics history (statsMomentum > 0) and the activation-shift history from the clean pass.
    if (stats) this.updateHistory(stats, obs.shifted);
    if (cfg.activationShift) {
      const m = batchMean(clean.features.final);
      if (!this.hist) this.hist = m;
      else for (let d = 0; d < m.length; d++) this.hist[d] = cfg.shiftMomentum * this.hist[d] + (1 - cfg.shiftMomentum) * m[d];
    }
    return prediction;
  }

  /** Number of SPSA coordinates: alpha (when the bank has slots) and the thetaTilde groups. */
  private coordinates(): { nAlpha: number; count: number } {
    const nAlpha = this.bank.slots.length >= 1 ? this.bank.alpha.length : 0;
    return { nAlpha, count: nAlpha + this.groupIndex().count };
  }

  /** The perturbation steps (c u) of alpha and of every layer's thetaTilde for one draw u. */
  private steps(u: Float32Array, nAlpha: number): { alphaStep: number[] | null; tildeStep: Float32Array[] } {
    const cfg = this.config;
    const alphaStep = nAlpha > 0 ? Array.from(u.subarray(0, nAlpha), (v) => cfg.cAlpha * v) : null;
    const tildeStep = this.groupIndex().of.map((g) => Float32Array.from(g, (k) => cfg.c * u[nAlpha + k]));
    return { alphaStep, tildeStep };
  }

  private draw(b: number, count: number, rng: Rng | null): Float32Array {
    const u = this.opts.perturbation ? this.opts.perturbation(count, b) : segmentedUniform(rng ?? batchRng(this.config.seed, b), count);
    if (u.length !== count) throw new RangeError(`Zoa: perturbation has ${u.length} coordinates, expected ${count}`);
    return u;
  }

  /** One-sided SPSA (the spec): one perturbed pass, g_i = (L1 - L2) / (c_i u_i) (est null when L1 - L2 is not finite), and that pass. */
  private spsaEstimate(
    x: Tensor,
    l2: number,
    b: number,
    stats: StepStats | undefined,
  ): { est: { alphaGrad: Float32Array; grad: Float32Array } | null; perturbed: ForwardResult } {
    const cfg = this.config;
    const { nAlpha, count } = this.coordinates();
    const u = this.draw(b, count, null);
    const { alphaStep, tildeStep } = this.steps(u, nAlpha);
    const perturbed = this.pass(x, tildeStep, alphaStep, stats);
    const l1 = this.loss(perturbed);
    this.lastPerturbedLoss = l1;
    const diff = l1 - l2;
    if (!Number.isFinite(diff)) return { est: null, perturbed };
    const alphaGrad = Float32Array.from(u.subarray(0, nAlpha), (v) => diff / (cfg.cAlpha * v));
    const grad = Float32Array.from(u.subarray(nAlpha), (v) => diff / (cfg.c * v));
    return { est: { alphaGrad, grad }, perturbed };
  }

  /** The population estimate (population.ts): P groups of samples, P perturbations, still one perturbed pass. */
  private populationEstimate(x: Tensor, clean: ForwardResult, b: number): { alphaGrad: Float32Array; grad: Float32Array } | null {
    const cfg = this.config;
    const N = x.shape[0];
    const members = groupMembers(N, cfg.population);
    const P = members.length;
    const { nAlpha, count } = this.coordinates();
    const rng = batchRng(cfg.seed, b);
    const us = members.map(() => this.draw(b, count, rng));
    const perGroup = us.map((u) => {
      const { alphaStep, tildeStep } = this.steps(u, nAlpha);
      return this.bank.overrides(tildeStep, alphaStep);
    });
    const pert = this.counter.run(x, {
      normPerSample: perSampleOverrides(perGroup, members, N),
      bnStats: this.useBatchStats ? "batch" : "running",
    });
    const l2 = groupLosses(clean.logits, clean.features, this.source, cfg.lambda, members);
    const l1 = groupLosses(pert.logits, pert.features, this.source, cfg.lambda, members);
    this.lastPerturbedLoss = l1.reduce((a, v) => a + v, 0) / P;
    const alphaGrad = new Float32Array(nAlpha);
    const grad = new Float32Array(count - nAlpha);
    for (let g = 0; g < P; g++) {
      const diff = l1[g] - l2[g];
      if (!Number.isFinite(diff)) return null;
      const u = us[g];
      for (let j = 0; j < nAlpha; j++) alphaGrad[j] += diff / (cfg.cAlpha * u[j]) / P;
      for (let k = 0; k < grad.length; k++) grad[k] += diff / (cfg.c * u[nAlpha + k]) / P;
    }
    return { alphaGrad, grad };
  }

  private groupsCache: { of: Int32Array[]; count: number } | null = null;

  /** For every thetaTilde scalar, the index of its perturbation coordinate (weight and bias grouped apart). */
  private groupIndex(): { of: Int32Array[]; count: number } {
    if (this.groupsCache) return this.groupsCache;
    const G = Math.max(1, this.config.groupSize);
    let count = 0;
    const of = this.bank.layers.map((layer) => {
      const C = layer.channels;
      const idx = new Int32Array(2 * C);
      const perHalf = Math.ceil(C / G);
      for (let h = 0; h < 2; h++) for (let c = 0; c < C; c++) idx[h * C + c] = count + h * perHalf + Math.floor(c / G);
      count += 2 * perHalf;
      return idx;
    });
    this.groupsCache = { of, count };
    return this.groupsCache;
  }

  reset(): void {
    this.bank.reset();
    this.detector.reset();
    this.hist = null;
    this.batchIndex = 0;
    this.shifts = 0;
    this.momentum = null;
    this.bnHistory = null;
    this.counter.reset();
  }

  stats(): AdapterStats {
    const bytes = this.bank.bytes() + this.detector.bytes() + (this.hist ? this.hist.length * 4 : 0) + (this.momentum ? this.momentum.length * 4 : 0);
    return {
      forwardPasses: this.counter.passes,
      batches: this.counter.batches,
      seconds: this.counter.seconds,
      adapterBytes: bytes,
      extra: {
        slots: this.bank.slots.length,
        shifts: this.shifts,
        removed: this.bank.removed.length,
        slotBytes: this.bank.slotBytes(),
        capacity: this.bank.capacity(),
      },
    };
  }

  save(): AdapterState {
    return bankToState(this);
  }

  load(state: AdapterState): void {
    bankFromState(this, state);
  }

  /** The momentum buffer (for state save/load). */
  get gradMomentumBuffer(): Float32Array | null {
    return this.momentum;
  }

  set gradMomentumBuffer(m: Float32Array | null) {
    this.momentum = m;
  }
}
