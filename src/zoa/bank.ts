// The domain-knowledge bank of ZOA (zoa-method.md sections 3 and 6). For every adapted norm layer l and for
// both its weight and bias (stored together as one [2C] vector: weight then bias):
//   theta_l = theta0_l + sum_{j=0..N} softmax(s * alpha)_j * Delta_{j,l} + thetaTilde_l      (s = 10, Delta_0 = 0)
// Slots hold frozen deltas Delta_1..Delta_N (relative to theta0); alpha is one logit vector shared by all layers;
// thetaTilde is the free, currently learned delta. Saving or removing a slot re-solves thetaTilde so every
// layer's fused parameters stay exactly what they were: the model's function never changes by bookkeeping.
import type { NormAffine } from "../models/model.js";
import { Tensor } from "../tensor/tensor.js";

export interface BankLayer {
  name: string;
  channels: number;
  /** Source weight and bias, [C] each. */
  w0: Float32Array;
  b0: Float32Array;
}

export interface Slot {
  /** Increasing id: a smaller id is an older slot. */
  id: number;
  /** Batch index at which the slot was saved. */
  createdAt: number;
  /** Per layer [2C]: delta of weight then bias. */
  deltas: Float32Array[];
}

export type SlotStorage = "f32" | "i8";

export interface BankOptions {
  maxSlots: number;
  /** Optional byte budget for the stored slots (bounds the slot count further). */
  maxBytes?: number;
  /** Softmax temperature s. */
  s?: number;
  /** f32 slots, or int8 slots (symmetric, one scale per layer; 4x smaller). */
  storage?: SlotStorage;
}

/** r's reference magnitude: a mean |thetaTilde| of 0.01 counts as one unit (zoa-method.md section 6). */
const SCALE_UNIT = 0.01;

function cosine(a: Float32Array, b: Float32Array, lo: number, hi: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = lo; i < hi; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

export class KnowledgeBank {
  readonly s: number;
  readonly maxSlots: number;
  readonly maxBytes: number | undefined;
  readonly storage: SlotStorage;
  /** alpha[0] belongs to the source (Delta_0 = 0); alpha[j] to slots[j - 1]. Values are float32-exact. */
  alpha: number[] = [0];
  slots: Slot[] = [];
  tilde: Float32Array[];
  private nextId = 1;
  /** Ids of removed slots, in order (for reports). */
  readonly removed: number[] = [];

  constructor(
    readonly layers: readonly BankLayer[],
    opts: BankOptions,
  ) {
    this.s = opts.s ?? 10;
    this.maxSlots = opts.maxSlots;
    this.maxBytes = opts.maxBytes;
    this.storage = opts.storage ?? "f32";
    this.tilde = layers.map((l) => new Float32Array(2 * l.channels));
  }

  /** Number of adapted scalars in thetaTilde. */
  get tildeSize(): number {
    return this.tilde.reduce((a, t) => a + t.length, 0);
  }

  /** Bytes of one stored slot. */
  slotBytes(): number {
    const values = this.tildeSize;
    return this.storage === "f32" ? values * 4 : values + this.layers.length * 2 * 4;
  }

  /** The effective slot bound: maxSlots, further limited by maxBytes. */
  capacity(): number {
    const byBytes = this.maxBytes === undefined ? Infinity : Math.floor(this.maxBytes / this.slotBytes());
    return Math.max(1, Math.min(this.maxSlots, byBytes));
  }

  /** Bytes held: slots + alpha + thetaTilde. */
  bytes(): number {
    return this.slots.length * this.slotBytes() + this.alpha.length * 4 + this.tildeSize * 4;
  }

  /** softmax(s * alpha) (float64). */
  weights(alpha: readonly number[] = this.alpha): Float64Array {
    const z = alpha.map((a) => this.s * a);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return Float64Array.from(e, (v) => v / sum);
  }

  /** sum_j w_j Delta_{j,l} for layer l (Delta_0 = 0), float64 [2C]. */
  fused(l: number, w: Float64Array = this.weights()): Float64Array {
    const out = new Float64Array(2 * this.layers[l].channels);
    this.slots.forEach((slot, j) => {
      const wj = w[j + 1];
      const d = slot.deltas[l];
      for (let i = 0; i < out.length; i++) out[i] += wj * d[i];
    });
    return out;
  }

  /** theta_l - theta0_l = fused + thetaTilde, float64 [2C]. */
  currentDelta(l: number): Float64Array {
    const f = this.fused(l);
    const t = this.tilde[l];
    for (let i = 0; i < f.length; i++) f[i] += t[i];
    return f;
  }

  /**
   * Norm-layer overrides for a forward pass. With a perturbation, thetaTilde + tildeStep[l] and
   * alpha + alphaStep are used instead (SPSA's perturbed pass); the bank itself is not changed.
   */
  overrides(tildeStep: Float32Array[] | null = null, alphaStep: readonly number[] | null = null): Map<string, NormAffine> {
    const alpha = alphaStep ? this.alpha.map((a, j) => a + alphaStep[j]) : this.alpha;
    const w = this.weights(alpha);
    const map = new Map<string, NormAffine>();
    this.layers.forEach((layer, l) => {
      const C = layer.channels;
      const f = this.fused(l, w);
      const t = this.tilde[l];
      const step = tildeStep?.[l];
      const weight = new Float32Array(C);
      const bias = new Float32Array(C);
      for (let c = 0; c < C; c++) {
        weight[c] = layer.w0[c] + f[c] + t[c] + (step ? step[c] : 0);
        bias[c] = layer.b0[c] + f[C + c] + t[C + c] + (step ? step[C + c] : 0);
      }
      map.set(layer.name, { weight: new Tensor([C], weight), bias: new Tensor([C], bias) });
    });
    return map;
  }

  /** thetaTilde_l := target_l - fused_l, so theta_l equals target_l + theta0_l again. */
  private resolveTilde(targets: Float64Array[]): void {
    const w = this.weights();
    this.layers.forEach((_, l) => {
      const f = this.fused(l, w);
      const t = this.tilde[l];
      for (let i = 0; i < t.length; i++) t[i] = targets[l][i] - f[i];
    });
  }

  /** Mean over layers and over weight / bias of the cosine similarity of two slots' deltas. */
  similarity(a: Slot, b: Slot): number {
    let s = 0;
    this.layers.forEach((layer, l) => {
      const C = layer.channels;
      s += cosine(a.deltas[l], b.deltas[l], 0, C) + cosine(a.deltas[l], b.deltas[l], C, 2 * C);
    });
    return s / (2 * this.layers.length);
  }

  /** Removes the older slot of the most cosine-similar pair; returns its id. Fused parameters are unchanged. */
  removeMostSimilar(): number {
    if (this.slots.length < 1) throw new RangeError("KnowledgeBank.removeMostSimilar: the bank is empty");
    const targets = this.layers.map((_, l) => this.currentDelta(l));
    let best = -Infinity;
    let victim = 0; // with a single slot (maxSlots = 1) there is no pair: that slot goes
    // The pairwise similarities are recomputed from the current slots each time, so they are never stale.
    for (let i = 0; i < this.slots.length; i++) {
      for (let j = i + 1; j < this.slots.length; j++) {
        const sim = this.similarity(this.slots[i], this.slots[j]);
        if (sim > best) {
          best = sim;
          victim = this.slots[i].id < this.slots[j].id ? i : j;
        }
      }
    }
    const [gone] = this.slots.splice(victim, 1);
    this.alpha.splice(victim + 1, 1);
    this.resolveTilde(targets);
    this.removed.push(gone.id);
    return gone.id;
  }

  /**
   * Stores the current fused delta as a new slot (zoa-method.md section 6, steps 1-5); returns the id of a slot
   * removed to make room, or null.
   */
  saveSlot(at: number): number | null {
    let removedId: number | null = null;
    while (this.slots.length >= this.capacity()) removedId = this.removeMostSimilar();
    // r: the largest mean |thetaTilde| of any layer's weight or bias, in units of 0.01.
    let r = 0;
    this.layers.forEach((layer, l) => {
      const C = layer.channels;
      const t = this.tilde[l];
      let mw = 0;
      let mb = 0;
      for (let c = 0; c < C; c++) {
        mw += Math.abs(t[c]);
        mb += Math.abs(t[C + c]);
      }
      r = Math.max(r, mw / C / SCALE_UNIT, mb / C / SCALE_UNIT);
    });
    const z = this.alpha.map((a) => this.s * a);
    let aNew = Math.max(...z);
    if (r > 1) {
      const m = Math.max(...z);
      const logSum = m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0));
      aNew = Math.max(aNew, logSum + Math.log(r - 1));
    }
    // Logits are kept float32-exact so a saved bank (F32 tensors) resumes bit for bit.
    aNew = Math.fround(Math.min(10, Math.max(-10, aNew / this.s)));
    const targets = this.layers.map((_, l) => this.currentDelta(l));
    const deltas = targets.map((t, l) => this.store(Float32Array.from(t), l));
    this.slots.push({ id: this.nextId++, createdAt: at, deltas });
    this.alpha.push(aNew);
    this.resolveTilde(targets);
    return removedId;
  }

  /** int8 storage: symmetric per layer-half fake-quantization (the bank keeps the dequantized values). */
  private store(d: Float32Array, l: number): Float32Array {
    if (this.storage === "f32") return d;
    const C = this.layers[l].channels;
    for (const [lo, hi] of [[0, C], [C, 2 * C]]) {
      let m = 0;
      for (let i = lo; i < hi; i++) m = Math.max(m, Math.abs(d[i]));
      const scale = m / 127 || 1;
      for (let i = lo; i < hi; i++) d[i] = Math.round(d[i] / scale) * scale;
    }
    return d;
  }

  reset(): void {
    this.alpha = [0];
    this.slots = [];
    this.tilde = this.layers.map((l) => new Float32Array(2 * l.channels));
    this.nextId = 1;
    this.removed.length = 0;
  }

  /** Continue ids after loading. */
  setNextId(id: number): void {
    this.nextId = id;
  }

  get nextSlotId(): number {
    return this.nextId;
  }
}
