// CMA-ES for minimisation, written from scratch for FOA (zoa-method.md section 8).
// reference: N. Hansen, "The CMA Evolution Strategy: A Tutorial" (arXiv:1604.00772), Appendix A/B defaults with
// positive log weights only (mu = floor(lambda / 2)); sep-CMA-ES: R. Ros and N. Hansen, "A Simple Modification in
// CMA-ES Achieving Linear Time and Space Complexity" (PPSN 2008); injected solutions: N. Hansen, "Injecting
// External Solutions Into CMA-ES" (2011).
// Variants: "full" covariance (sampling y = B D z, an eigendecomposition of C (Householder + QL) every
// max(1, floor(1 / (10 n (c1 + cmu)))) generations); "sep" keeps C diagonal (O(n) per sample, c1 and cmu scaled
// by (n + 2) / 3). "auto" picks full for n <= FULL_CMA_MAX_DIM (FOA on the CIFAR ViT: 3 x 128 = 384) and sep
// above (ViT-B: 3 x 768 = 2304, where an n^2 covariance and its eigendecomposition are too heavy in JS).
// Start: mean m0 (default 0), step size sigma0 (default 1), C = I.
// NOTE: every state vector and matrix is stored rounded to float32 (arithmetic is float64), so that a save to
// Float32 tensors and a load resume bit-identically; sigma and the counters travel as exact JSON numbers.
import { Rng } from "../tensor/rng.js";

/** Largest dimension that uses the full covariance under variant "auto". */
export const FULL_CMA_MAX_DIM = 512;

export type CmaVariant = "full" | "sep";

export interface CmaEsOptions {
  dim: number;
  /** Population size; default 4 + floor(3 ln n) (the tutorial's default). */
  lambda?: number;
  seed?: number;
  sigma0?: number;
  mean0?: ArrayLike<number>;
  variant?: CmaVariant | "auto";
}

/** Everything needed to resume: arrays are float32, scalars exact. */
export interface CmaEsState {
  mean: Float32Array; // [n]
  ps: Float32Array; // [n] conjugate evolution path (step size)
  pc: Float32Array; // [n] evolution path (covariance)
  /** full: C [n*n] row-major; sep: diag(C) [n]. */
  cov: Float32Array;
  /** full: eigenvectors B [n*n] (column j = vector j) used for sampling; sep: empty. */
  basis: Float32Array;
  /** sqrt of the eigenvalues of C (full) or of diag(C) (sep), [n]. */
  scales: Float32Array;
  sigma: number;
  generation: number;
  /** Generation of the last eigendecomposition (full). */
  eigenGeneration: number;
  best: { x: Float32Array; f: number } | null;
}

/**
 * Eigendecomposition of a symmetric n x n matrix (row-major, float64): Householder reduction to tridiagonal form,
 * then the QL algorithm with implicit shifts (the EISPACK tred2 / tql2 pair, as in JAMA and Hansen's purecma).
 * Returns eigenvalues and eigenvectors (column j of `vectors` belongs to values[j]), unsorted. O(n^3); n = 384
 * takes a fraction of a second, where cyclic Jacobi took seconds.
 * @example const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2); // values 1 and 3
 */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const v = Array.from({ length: n }, (_, i) => matrix.slice(i * n, (i + 1) * n)); // v[row][col]
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(v, d, e, n);
  // QL works on columns of V; hold them as rows of w (contiguous rotations).
  const w = Array.from({ length: n }, (_, j) => Float64Array.from({ length: n }, (_, k) => v[k][j]));
  tridiagonalQL(w, d, e, n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) vectors[k * n + j] = w[j][k];
  return { values: d, vectors };
}

/** Householder reduction (tred2): v becomes the accumulated orthogonal transform, d the diagonal, e the subdiagonal. */
function tridiagonalize(v: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[n - 1][j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[i - 1][j];
        v[i][j] = 0;
        v[j][i] = 0;
      }
    } else {
      // Householder vector of row i (scaled to avoid under/overflow).
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[j][i] = f;
        g = e[j] + v[j][j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k][j] * d[k];
          e[k] += v[k][j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) v[k][j] -= f * e[k] + g * d[k];
        d[j] = v[i - 1][j];
        v[i][j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    v[n - 1][i] = v[i][i];
    v[i][i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[k][i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k][i + 1] * v[k][j];
        for (let k = 0; k <= i; k++) v[k][j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[k][i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[n - 1][j];
    v[n - 1][j] = 0;
  }
  v[n - 1][n - 1] = 1;
  e[0] = 0;
}

/** Implicit-shift QL on the tridiagonal (d, e) (tql2); w[j] is column j of the transform, rotated in place. */
function tridiagonalQL(w: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; iter < 60 && Math.abs(e[l]) > eps * tst1; iter++) {
        // Shift from the leading 2x2 block.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // Chase the bulge with Givens rotations.
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const wi = w[i];
          const wi1 = w[i + 1];
          for (let k = 0; k < n; k++) {
            const t = wi1[k];
            wi1[k] = s * wi[k] + c * t;
            wi[k] = c * wi[k] - s * t;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      }
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** The tutorial's default strategy parameters for dimension n and population lambda. */
export function cmaParameters(n: number, lambda: number, variant: CmaVariant) {
  const mu = Math.floor(lambda / 2);
  const raw = Array.from({ length: mu }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
  const sum = raw.reduce((s, w) => s + w, 0);
  const weights = Float64Array.from(raw, (w) => w / sum);
  const muEff = 1 / weights.reduce((s, w) => s + w * w, 0);
  const cSigma = (muEff + 2) / (n + muEff + 5);
  const dSigma = 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cSigma;
  const cc = (4 + muEff / n) / (n + 4 + (2 * muEff) / n);
  let c1 = 2 / ((n + 1.3) ** 2 + muEff);
  let cMu = Math.min(1 - c1, (2 * (muEff - 2 + 1 / muEff)) / ((n + 2) ** 2 + muEff));
  if (variant === "sep") {
    // Ros & Hansen 2008: a diagonal C learns faster, rates multiplied by (n + 2) / 3.
    c1 = Math.min(1, (c1 * (n + 2)) / 3);
    cMu = Math.min(1 - c1, (cMu * (n + 2)) / 3);
  }
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n)); // E||N(0, I)||
  const eigenEvery = Math.max(1, Math.floor(1 / (10 * n * (c1 + cMu))));
  return { mu, weights, muEff, cSigma, dSigma, cc, c1, cMu, chiN, eigenEvery };
}

export class CmaEs {
  readonly dim: number;
  readonly lambda: number;
  readonly seed: number;
  readonly variant: CmaVariant;
  readonly params: ReturnType<typeof cmaParameters>;
  private state: CmaEsState;
  private rng: Rng;
  /** Solutions handed out by ask() in this generation (others given to tell() count as injected). */
  private asked = new Set<Float32Array>();

  constructor(opts: CmaEsOptions) {
    const n = opts.dim;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`CmaEs: dim must be a positive integer, got ${n}`);
    this.dim = n;
    this.lambda = opts.lambda ?? 4 + Math.floor(3 * Math.log(n));
    if (!Number.isInteger(this.lambda) || this.lambda < 2) throw new RangeError(`CmaEs: lambda must be an integer >= 2, got ${this.lambda}`);
    this.seed = opts.seed ?? 0;
    const v = opts.variant ?? "auto";
    this.variant = v === "auto" ? (n <= FULL_CMA_MAX_DIM ? "full" : "sep") : v;
    this.params = cmaParameters(n, this.lambda, this.variant);
    this.state = this.initialState(opts.mean0, opts.sigma0 ?? 1);
    this.rng = this.generationRng();
  }

  private initialState(mean0: ArrayLike<number> | undefined, sigma0: number): CmaEsState {
    const n = this.dim;
    if (mean0 && mean0.length !== n) throw new RangeError(`CmaEs: mean0 has ${mean0.length} values, expected ${n}`);
    if (!(sigma0 > 0)) throw new RangeError(`CmaEs: sigma0 must be positive, got ${sigma0}`);
    const full = this.variant === "full";
    const cov = new Float32Array(full ? n * n : n);
    const basis = new Float32Array(full ? n * n : 0);
    for (let i = 0; i < n; i++) {
      cov[full ? i * n + i : i] = 1;
      if (full) basis[i * n + i] = 1;
    }
    return {
      mean: mean0 ? Float32Array.from(mean0) : new Float32Array(n),
      ps: new Float32Array(n),
      pc: new Float32Array(n),
      cov,
      basis,
      scales: new Float32Array(n).fill(1),
      sigma: sigma0,
      generation: 0,
      eigenGeneration: 0,
      best: null,
    };
  }

  /** A fresh generator per generation, so a resumed run draws the same samples. */
  private generationRng(): Rng {
    return new Rng(this.seed, (2 * this.state.generation + 1) >>> 0);
  }

  get mean(): Float32Array {
    return this.state.mean.slice();
  }

  get sigma(): number {
    return this.state.sigma;
  }

  get generation(): number {
    return this.state.generation;
  }

  /** Best solution ever passed to tell(), with its fitness. */
  get best(): { x: Float32Array; f: number } | null {
    return this.state.best ? { x: this.state.best.x.slice(), f: this.state.best.f } : null;
  }

  /** y = B D z (full) or D z (sep), z ~ N(0, I). */
  private sampleStep(): Float64Array {
    const n = this.dim;
    const { basis, scales } = this.state;
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) z[i] = scales[i] * this.rng.normal();
    if (this.variant === "sep") return z;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += basis[i * n + j] * z[j];
      y[i] = s;
    }
    return y;
  }

  /** `count` (default lambda) new candidates x = m + sigma * y, y ~ N(0, C). */
  ask(count = this.lambda): Float32Array[] {
    const { mean, sigma } = this.state;
    const out: Float32Array[] = [];
    for (let k = 0; k < count; k++) {
      const y = this.sampleStep();
      const x = new Float32Array(this.dim);
      for (let i = 0; i < this.dim; i++) x[i] = mean[i] + sigma * y[i];
      this.asked.add(x);
      out.push(x);
    }
    return out;
  }

  /** C^{-1/2} y = B D^{-1} B^T y (full) or y / D (sep). */
  private invSqrtC(y: Float64Array): Float64Array {
    const n = this.dim;
    const { basis, scales } = this.state;
    if (this.variant === "sep") return y.map((v, i) => v / scales[i]);
    const t = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += basis[i * n + j] * y[i];
      t[j] = s / scales[j];
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += basis[i * n + j] * t[j];
      out[i] = s;
    }
    return out;
  }

  /**
   * One generation: `solutions` (exactly lambda, from ask() or injected) with their fitnesses (lower is better).
   * Injected solutions have their Mahalanobis step length clipped to sqrt(n) + 2n / (n + 2) (Hansen 2011).
   */
  tell(solutions: readonly Float32Array[], fitnesses: readonly number[]): void {
    const n = this.dim;
    const p = this.params;
    const st = this.state;
    if (solutions.length !== this.lambda || fitnesses.length !== this.lambda) {
      throw new RangeError(`CmaEs.tell: expected ${this.lambda} solutions and fitnesses, got ${solutions.length} and ${fitnesses.length}`);
    }
    const key = (f: number) => (Number.isNaN(f) ? Infinity : f);
    const order = Array.from({ length: this.lambda }, (_, i) => i).sort((a, b) => key(fitnesses[a]) - key(fitnesses[b]));
    const top = order[0];
    if (!st.best || key(fitnesses[top]) < st.best.f) st.best = { x: Float32Array.from(solutions[top]), f: key(fitnesses[top]) };

    // Selected steps y_i = (x_i - m) / sigma, i = 1..mu (best first).
    const ys: Float64Array[] = [];
    const clip = Math.sqrt(n) + (2 * n) / (n + 2);
    for (let r = 0; r < p.mu; r++) {
      const x = solutions[order[r]];
      if (x.length !== n) throw new RangeError(`CmaEs.tell: solution has ${x.length} values, expected ${n}`);
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) y[i] = (x[i] - st.mean[i]) / st.sigma;
      if (!this.asked.has(x)) {
        let norm = 0;
        for (const v of this.invSqrtC(y)) norm += v * v;
        norm = Math.sqrt(norm);
        if (norm > clip) for (let i = 0; i < n; i++) y[i] *= clip / norm;
      }
      ys.push(y);
    }
    const yw = new Float64Array(n);
    ys.forEach((y, r) => {
      for (let i = 0; i < n; i++) yw[i] += p.weights[r] * y[i];
    });

    // Mean (c_m = 1) and the step-size path.
    for (let i = 0; i < n; i++) st.mean[i] = st.mean[i] + st.sigma * yw[i];
    const cy = this.invSqrtC(yw);
    const ksi = Math.sqrt(p.cSigma * (2 - p.cSigma) * p.muEff);
    let psNorm = 0;
    for (let i = 0; i < n; i++) {
      st.ps[i] = (1 - p.cSigma) * st.ps[i] + ksi * cy[i];
      psNorm += st.ps[i] * st.ps[i];
    }
    psNorm = Math.sqrt(psNorm);
    const g = st.generation + 1;
    const hSigma = psNorm / Math.sqrt(1 - (1 - p.cSigma) ** (2 * g)) < (1.4 + 2 / (n + 1)) * p.chiN ? 1 : 0;
    const kc = hSigma * Math.sqrt(p.cc * (2 - p.cc) * p.muEff);
    for (let i = 0; i < n; i++) st.pc[i] = (1 - p.cc) * st.pc[i] + kc * yw[i];

    // C <- (1 + c1 delta(h) - c1 - cmu) C + c1 pc pc^T + cmu sum_i w_i y_i y_i^T  (sum w_i = 1).
    const decay = 1 + p.c1 * (1 - hSigma) * p.cc * (2 - p.cc) - p.c1 - p.cMu;
    if (this.variant === "sep") {
      for (let i = 0; i < n; i++) {
        let rankMu = 0;
        ys.forEach((y, r) => (rankMu += p.weights[r] * y[i] * y[i]));
        st.cov[i] = decay * st.cov[i] + p.c1 * st.pc[i] * st.pc[i] + p.cMu * rankMu;
        st.scales[i] = Math.sqrt(Math.max(st.cov[i], 0));
      }
    } else {
      for (let i = 0; i < n; i++) {
        for (let j = i; j < n; j++) {
          let rankMu = 0;
          for (let r = 0; r < ys.length; r++) rankMu += p.weights[r] * ys[r][i] * ys[r][j];
          const c = decay * st.cov[i * n + j] + p.c1 * st.pc[i] * st.pc[j] + p.cMu * rankMu;
          st.cov[i * n + j] = c;
          st.cov[j * n + i] = c;
        }
      }
    }
    // Step size (tutorial eq. 44), the exponent capped at 1 as in Hansen's purecma.
    st.sigma *= Math.exp(Math.min(1, (p.cSigma / p.dSigma) * (psNorm / p.chiN - 1)));
    st.generation = g;
    if (this.variant === "full" && g - st.eigenGeneration >= p.eigenEvery) this.decompose();
    this.asked.clear();
    this.rng = this.generationRng();
  }

  /** B, D from the current C (full variant). */
  private decompose(): void {
    const n = this.dim;
    const st = this.state;
    const { values, vectors } = symmetricEigen(Float64Array.from(st.cov), n);
    const top = Math.max(...values);
    for (let j = 0; j < n; j++) st.scales[j] = Math.sqrt(Math.max(values[j], top * 1e-20, 1e-300));
    st.basis.set(vectors);
    st.eigenGeneration = st.generation;
  }

  /** Bytes of the strategy state (mean, paths, covariance, eigenvectors, scales, best). */
  stateBytes(): number {
    const st = this.state;
    return 4 * (st.mean.length + st.ps.length + st.pc.length + st.cov.length + st.basis.length + st.scales.length + (st.best ? st.best.x.length : 0));
  }

  /** A copy of the state (float32 arrays, exact scalars). */
  exportState(): CmaEsState {
    const st = this.state;
    return {
      mean: st.mean.slice(),
      ps: st.ps.slice(),
      pc: st.pc.slice(),
      cov: st.cov.slice(),
      basis: st.basis.slice(),
      scales: st.scales.slice(),
      sigma: st.sigma,
      generation: st.generation,
      eigenGeneration: st.eigenGeneration,
      best: st.best ? { x: st.best.x.slice(), f: st.best.f } : null,
    };
  }

  /** Resumes from exportState() of a strategy with the same dim, lambda, variant and seed. */
  importState(s: CmaEsState): void {
    const n = this.dim;
    const full = this.variant === "full";
    const want: [string, Float32Array, number][] = [
      ["mean", s.mean, n],
      ["ps", s.ps, n],
      ["pc", s.pc, n],
      ["cov", s.cov, full ? n * n : n],
      ["basis", s.basis, full ? n * n : 0],
      ["scales", s.scales, n],
    ];
    for (const [name, arr, len] of want) {
      if (arr.length !== len) throw new RangeError(`CmaEs.importState: ${name} has ${arr.length} values, expected ${len}`);
    }
    if (s.best && s.best.x.length !== n) throw new RangeError(`CmaEs.importState: best has ${s.best.x.length} values, expected ${n}`);
    this.state = {
      mean: Float32Array.from(s.mean),
      ps: Float32Array.from(s.ps),
      pc: Float32Array.from(s.pc),
      cov: Float32Array.from(s.cov),
      basis: Float32Array.from(s.basis),
      scales: Float32Array.from(s.scales),
      sigma: s.sigma,
      generation: s.generation,
      eigenGeneration: s.eigenGeneration,
      best: s.best ? { x: Float32Array.from(s.best.x), f: s.best.f } : null,
    };
    this.asked.clear();
    this.rng = this.generationRng();
  }
}
