// CMA-ES: the symmetric eigensolver (Householder + QL) against the definition (A V = V diag(values), V orthonormal), convergence to
// f < 1e-8 on the 10-D sphere, axis-parallel and rotated ellipsoids (condition 1e6) within a generation budget,
// sep-CMA on the sphere, determinism, injected solutions, and export/import resuming bit-identically.
import { describe, expect, it } from "vitest";
import { CmaEs, type CmaVariant, FULL_CMA_MAX_DIM, cmaParameters, symmetricEigen } from "../../src/zoa/cmaes.js";
import { Rng } from "../../src/tensor/rng.js";

const TARGET = 1e-8;

const sphere = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
};

/** f(x) = sum_i 1e6^(i / (n - 1)) x_i^2. */
const ellipsoid = (x: ArrayLike<number>): number => {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += 1e6 ** (i / (n - 1)) * x[i] * x[i];
  return s;
};

/** A random orthogonal matrix (Gram-Schmidt on Gaussian columns), row-major n x n. */
function randomRotation(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let k = 0; k < j; k++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += v[i] * q[i * n + k];
      for (let i = 0; i < n; i++) v[i] -= d * q[i * n + k];
    }
    const norm = Math.sqrt(sphere(v));
    for (let i = 0; i < n; i++) q[i * n + j] = v[i] / norm;
  }
  return q;
}

function rotated(f: (x: ArrayLike<number>) => number, q: Float64Array): (x: ArrayLike<number>) => number {
  const n = Math.round(Math.sqrt(q.length));
  return (x) => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] += q[i * n + j] * x[j];
    return f(y);
  };
}

/** Runs until f < TARGET or the budget; returns the generations used and the best f. */
function minimise(f: (x: ArrayLike<number>) => number, es: CmaEs, maxGenerations: number): { generations: number; best: number } {
  for (let g = 0; g < maxGenerations; g++) {
    const xs = es.ask();
    es.tell(xs, xs.map(f));
    if (es.best!.f < TARGET) return { generations: g + 1, best: es.best!.f };
  }
  return { generations: maxGenerations, best: es.best!.f };
}

describe("symmetricEigen (Householder + QL)", () => {
  it.each([1, 2, 5, 12, 40])("diagonalises a random symmetric %i x %i matrix", (n) => {
    const rng = new Rng(n);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const v = rng.normal();
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
    const { values, vectors } = symmetricEigen(a, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let av = 0;
        let vtv = 0;
        for (let k = 0; k < n; k++) {
          av += a[i * n + k] * vectors[k * n + j];
          vtv += vectors[k * n + i] * vectors[k * n + j];
        }
        expect(av).toBeCloseTo(vectors[i * n + j] * values[j], 10);
        expect(vtv).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });

  it("gives the known eigenvalues of [[2, 1], [1, 2]]", () => {
    const v = Array.from(symmetricEigen(Float64Array.of(2, 1, 1, 2), 2).values).sort();
    expect(v[0]).toBeCloseTo(1, 14);
    expect(v[1]).toBeCloseTo(3, 14);
  });
});

describe("CMA-ES parameters", () => {
  it("follows the tutorial's defaults (n = 10, lambda = 10)", () => {
    const p = cmaParameters(10, 10, "full");
    expect(p.mu).toBe(5);
    expect(p.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 14);
    for (let i = 1; i < p.mu; i++) expect(p.weights[i]).toBeLessThan(p.weights[i - 1]);
    expect(p.cSigma).toBeCloseTo((p.muEff + 2) / (10 + p.muEff + 5), 14);
    expect(p.c1).toBeCloseTo(2 / (11.3 ** 2 + p.muEff), 14);
    expect(p.c1 + p.cMu).toBeLessThanOrEqual(1);
    const sep = cmaParameters(10, 10, "sep");
    expect(sep.c1).toBeCloseTo((p.c1 * 12) / 3, 14);
  });

  it("chooses full covariance up to FULL_CMA_MAX_DIM and sep-CMA above", () => {
    expect(new CmaEs({ dim: 384, lambda: 28 }).variant).toBe("full");
    expect(new CmaEs({ dim: FULL_CMA_MAX_DIM + 1, lambda: 28 }).variant).toBe("sep");
  });
});

describe("CMA-ES convergence in 10 dimensions", () => {
  const n = 10;
  const start = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1));
  const cases: [string, (x: ArrayLike<number>) => number, CmaVariant, number][] = [
    ["sphere", sphere, "full", 250],
    ["ellipsoid", ellipsoid, "full", 900],
    ["rotated ellipsoid", rotated(ellipsoid, randomRotation(n, 99)), "full", 900],
    ["sphere (sep-CMA)", sphere, "sep", 250],
    ["ellipsoid (sep-CMA)", ellipsoid, "sep", 700],
  ];
  it.each(cases)("%s reaches f < 1e-8", (_name, f, variant, budget) => {
    const es = new CmaEs({ dim: n, seed: 3, mean0: start, sigma0: 1, variant });
    const r = minimise(f, es, budget);
    expect(r.best).toBeLessThan(TARGET);
    expect(r.generations).toBeLessThan(budget);
  });

  it("is deterministic given the seed, and the seed matters", () => {
    const run = (seed: number) => {
      const es = new CmaEs({ dim: n, seed, mean0: start });
      for (let g = 0; g < 20; g++) {
        const xs = es.ask();
        es.tell(xs, xs.map(ellipsoid));
      }
      return Array.from(es.mean);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it("export -> import resumes bit-identically", () => {
    const f = rotated(ellipsoid, randomRotation(n, 7));
    const straight = new CmaEs({ dim: n, seed: 8, mean0: start });
    const trace: number[][] = [];
    for (let g = 0; g < 30; g++) {
      const xs = straight.ask();
      if (g >= 13) trace.push(Array.from(xs[0]));
      straight.tell(xs, xs.map(f));
    }
    const first = new CmaEs({ dim: n, seed: 8, mean0: start });
    for (let g = 0; g < 13; g++) {
      const xs = first.ask();
      first.tell(xs, xs.map(f));
    }
    const resumed = new CmaEs({ dim: n, seed: 8 });
    resumed.importState(first.exportState());
    const got: number[][] = [];
    for (let g = 13; g < 30; g++) {
      const xs = resumed.ask();
      got.push(Array.from(xs[0]));
      resumed.tell(xs, xs.map(f));
    }
    expect(got).toEqual(trace);
    expect(Array.from(resumed.mean)).toEqual(Array.from(straight.mean));
    expect(resumed.sigma).toBe(straight.sigma);
  });

  it("accepts an injected solution (previous best) in place of a sample and still converges", () => {
    const es = new CmaEs({ dim: n, lambda: 12, seed: 4, mean0: start });
    let prev = es.mean;
    for (let g = 0; g < 300; g++) {
      const xs = [...es.ask(11), prev];
      const fs = xs.map(sphere);
      es.tell(xs, fs);
      prev = xs[fs.indexOf(Math.min(...fs))];
      if (es.best!.f < TARGET) break;
    }
    expect(es.best!.f).toBeLessThan(TARGET);
  });

  it("rejects a population of the wrong size", () => {
    const es = new CmaEs({ dim: n, lambda: 6 });
    expect(() => es.tell(es.ask(5), [1, 2, 3, 4, 5])).toThrow(/expected 6 solutions/);
  });
});
