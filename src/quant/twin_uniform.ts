// PTQ4ViT twin uniform quantization (Yuan et al., ECCV 2022, Sec. 4.1) for post-softmax and post-GELU activations.
// Two uniform ranges of 2^(k-1) codes each share a k-bit code; its top bit says which range a value used:
//   softmax: R1 = [0, 2^(k-1) delta1) with delta1 = delta2 / 2^m, R2 = [0, 1] with delta2 = 1 / 2^(k-1) fixed;
//            x < 2^(k-1) delta1 goes to R1 (fine steps for the many small probabilities), the rest to R2;
//   gelu:    R1 holds the negatives, -delta1 * j, R2 the positives, delta2 * j, with delta1 = delta2 / 2^m.
// delta2 = 2^m delta1 keeps the two ranges aligned by a shift (the paper's hardware constraint). Values of a range are
// round(x / delta) clamped to [0, 2^(k-1) - 1] with round half to even, as elsewhere in src/quant.
import { DEFAULT_ALPHA_GRID, outputLoss, type OutputMetric } from "./calibrate.js";
import { roundHalfToEven } from "./rounding.js";

export type TwinUniformKind = "softmax" | "gelu";

/** Softmax split candidates 2^-m for m = 0..19, as PTQ4ViT's reference code searches. */
export const SOFTMAX_SPLIT_EXPONENTS: readonly number[] = Object.freeze(Array.from({ length: 20 }, (_, m) => m));
/** GELU delta2 / delta1 exponents searched by default. */
export const GELU_SHIFT_EXPONENTS: readonly number[] = Object.freeze(Array.from({ length: 13 }, (_, m) => m));
/** min over x of GELU(x) = x * Phi(x), about -0.16997 (PTQ4ViT initializes its negative interval from it). */
export const GELU_MIN = -0.16997124254703522;

export interface TwinSearchOptions {
  /** Default "mse". */
  readonly metric?: OutputMetric;
  /** Candidate m (delta2 = 2^m delta1); default SOFTMAX_SPLIT_EXPONENTS or GELU_SHIFT_EXPONENTS. */
  readonly exponents?: readonly number[];
  /** gelu only: multipliers of the initial delta2 = max(x) / (2^(k-1) - 1); default DEFAULT_ALPHA_GRID. */
  readonly alphas?: readonly number[];
  /** gelu only: alternating rounds (delta2, then m); default 2. */
  readonly rounds?: number;
}

export interface TwinSearchResult {
  readonly quantizer: TwinUniformQuantizer;
  readonly loss: number;
}

/**
 * A k-bit twin uniform quantizer: code = (range << (k-1)) | j, range 0 = R1 (delta1), range 1 = R2 (delta2).
 * @example const q = TwinUniformQuantizer.softmax(8, 4); q.fakeQuantize(probs) // R1 = [0, 1/16) in steps of 1/2048
 */
export class TwinUniformQuantizer {
  /** Codes per range, 2^(k-1). */
  readonly levels: number;
  /** delta2 / 2^m. */
  readonly delta1: number;

  /**
   * @param kind which activation the ranges are laid out for
   * @param bits k, 2..8 (k - 1 bits per range plus the range bit)
   * @param delta2 step of R2 (softmax: must be 1 / 2^(k-1))
   * @param m delta2 = 2^m * delta1, an integer
   */
  constructor(
    readonly kind: TwinUniformKind,
    readonly bits: number,
    readonly delta2: number,
    readonly m: number,
  ) {
    if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new RangeError(`TwinUniformQuantizer: bits must be in 2..8, got ${bits}`);
    if (!Number.isInteger(m) || Math.abs(m) > 31) throw new RangeError(`TwinUniformQuantizer: m must be an integer in [-31, 31], got ${m}`);
    if (!(delta2 > 0) || !Number.isFinite(delta2)) throw new RangeError(`TwinUniformQuantizer: delta2 must be finite and > 0, got ${delta2}`);
    this.levels = 2 ** (bits - 1);
    if (kind === "softmax" && delta2 !== 1 / this.levels) {
      throw new RangeError(`TwinUniformQuantizer: softmax fixes delta2 = 1/2^(k-1) = ${1 / this.levels}, got ${delta2}`);
    }
    this.delta1 = delta2 / 2 ** m;
  }

  /**
   * Post-softmax quantizer: delta2 = 1/2^(k-1), delta1 = delta2 / 2^m, R1 = [0, 2^-m).
   * @example TwinUniformQuantizer.softmax(8, 3).delta1 === 1 / 1024
   */
  static softmax(bits: number, m: number): TwinUniformQuantizer {
    return new TwinUniformQuantizer("softmax", bits, 1 / 2 ** (bits - 1), m);
  }

  /**
   * Post-GELU quantizer: positives in steps of delta2, negatives in steps of delta2 / 2^m.
   * @example TwinUniformQuantizer.gelu(8, 4 / 127, 4)
   */
  static gelu(bits: number, delta2: number, m: number): TwinUniformQuantizer {
    return new TwinUniformQuantizer("gelu", bits, delta2, m);
  }

  /** Same kind and bits with other steps. */
  with(delta2: number, m: number): TwinUniformQuantizer {
    return new TwinUniformQuantizer(this.kind, this.bits, delta2, m);
  }

  private magnitude(v: number, delta: number): number {
    const j = roundHalfToEven(v / delta);
    return j < 0 ? 0 : j > this.levels - 1 ? this.levels - 1 : j;
  }

  /**
   * k-bit codes, one per byte: top bit = range (1 for R2), low k-1 bits = j. NaN maps to code 0 (real 0).
   * @example TwinUniformQuantizer.softmax(4, 1).quantize(Float32Array.of(0.01, 0.9)) -> Uint8Array [0, 8 | 7]
   */
  quantize(x: Float32Array): Uint8Array {
    const codes = new Uint8Array(x.length);
    const r2 = this.levels; // the range bit
    const softmaxSplit = this.levels * this.delta1; // R1 = [0, 2^(k-1) delta1)
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v !== v) continue;
      if (this.kind === "softmax") {
        codes[i] = v < softmaxSplit ? this.magnitude(v, this.delta1) : r2 | this.magnitude(v, this.delta2);
      } else {
        codes[i] = v < 0 ? this.magnitude(-v, this.delta1) : r2 | this.magnitude(v, this.delta2);
      }
    }
    return codes;
  }

  /**
   * Reals of codes: R1 code j is j * delta1 (softmax) or -j * delta1 (gelu); R2 code j is j * delta2.
   * @example q.dequantize(q.quantize(x)) // equals q.fakeQuantize(x)
   */
  dequantize(codes: Uint8Array): Float32Array {
    const out = new Float32Array(codes.length);
    const sign1 = this.kind === "gelu" ? -1 : 1;
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      const j = c & (this.levels - 1);
      out[i] = c & this.levels ? j * this.delta2 : sign1 * j * this.delta1;
    }
    return out;
  }

  /**
   * dequantize(quantize(x)) in float32.
   * @example TwinUniformQuantizer.softmax(8, 4).fakeQuantize(attentionProbs)
   */
  fakeQuantize(x: Float32Array): Float32Array {
    // dequantize(quantize(x)) in one loop, bit for bit (the reference; test/quant/twin_uniform.test.ts): per value
    // the range, j = clamp(roundHalfToEven(|v| / delta), 0, levels - 1), then j * delta in double, one float32 store
    const out = new Float32Array(x.length);
    const top = this.levels - 1;
    const d1 = this.delta1;
    const d2 = this.delta2;
    const softmax = this.kind === "softmax";
    const split = softmax ? this.levels * d1 : 0; // values below it go to R1
    const sign1 = softmax ? 1 : -1;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v !== v) {
        out[i] = sign1 * 0 * d1; // code 0: +0 (softmax) or -0 (gelu), as dequantize writes it
        continue;
      }
      const r1 = v < split;
      const t = (r1 && !softmax ? -v : v) / (r1 ? d1 : d2);
      let j = Math.round(t); // ties toward +infinity; t - j is exact
      if (j - t === 0.5 && j % 2 !== 0) j -= 1;
      j = j <= 0 ? 0 : j > top ? top : j; // also -0 (Math.round(-0.3)) to +0, as the code byte does
      out[i] = r1 ? sign1 * j * d1 : j * d2;
    }
    return out;
  }

  /**
   * Searches this kind's steps on calibration inputs x against the layer output (PTQ4ViT): softmax scans m
   * (split 2^-m); gelu alternates a delta2 scan over alphas * max(x)/(2^(k-1)-1) with an m scan. Returns a new
   * quantizer (this one is unchanged) and its loss; the first best candidate wins ties.
   * @example TwinUniformQuantizer.softmax(8, 0).search(probs, (p) => matmul(p, v)).quantizer
   */
  search(x: Float32Array, layerOutput: (xq: Float32Array) => Float32Array, opts: TwinSearchOptions = {}): TwinSearchResult {
    const metric = opts.metric ?? "mse";
    if (opts.exponents?.length === 0 || opts.alphas?.length === 0) throw new RangeError("TwinUniformQuantizer.search: empty candidate list");
    const reference = layerOutput(x);
    const lossOf = (q: TwinUniformQuantizer): number => outputLoss(metric, reference, layerOutput(q.fakeQuantize(x)));
    const scanM = (start: TwinSearchResult, exponents: readonly number[]): TwinSearchResult => {
      let best = start;
      for (const m of exponents) {
        const q = start.quantizer.with(start.quantizer.delta2, m);
        const loss = lossOf(q);
        if (loss < best.loss) best = { quantizer: q, loss };
      }
      return best;
    };
    if (this.kind === "softmax") {
      return scanM({ quantizer: this, loss: lossOf(this) }, opts.exponents ?? SOFTMAX_SPLIT_EXPONENTS);
    }
    const exponents = opts.exponents ?? GELU_SHIFT_EXPONENTS;
    const alphas = opts.alphas ?? DEFAULT_ALPHA_GRID;
    let maxPos = 0;
    let minNeg = 0;
    for (let i = 0; i < x.length; i++) {
      if (x[i] > maxPos) maxPos = x[i];
      if (x[i] < minNeg) minNeg = x[i];
    }
    const baseDelta2 = maxPos > 0 ? maxPos / (this.levels - 1) : this.delta2;
    // initial m: the finest delta1 = delta2 / 2^m whose R1 still reaches the most negative sample (else the coarsest)
    const negMagnitude = minNeg < 0 ? -minNeg : -GELU_MIN;
    const reaching = exponents.filter((m) => (baseDelta2 / 2 ** m) * (this.levels - 1) >= negMagnitude);
    const m0 = reaching.length > 0 ? Math.max(...reaching) : Math.min(...exponents);
    const start = this.with(baseDelta2, m0);
    let best: TwinSearchResult = { quantizer: start, loss: lossOf(start) };
    for (let round = 0; round < (opts.rounds ?? 2); round++) {
      const m = best.quantizer.m;
      for (const alpha of alphas) {
        const q = this.with(alpha * baseDelta2, m);
        const loss = lossOf(q);
        if (loss < best.loss) best = { quantizer: q, loss };
      }
      best = scanM(best, exponents);
    }
    return best;
  }
}
