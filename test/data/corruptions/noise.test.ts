// Noise corruptions against independent statistical oracles (the draws differ from numpy's, the
// distributions must not), and the Poisson sampler's moments.
import { describe, expect, it } from "vitest";
import { gaussianNoise, impulseNoise, logGamma, poisson, shotNoise } from "../../../src/data/corruptions/noise.js";
import { Rng } from "../../../src/tensor/rng.js";

const N = 3 * 32 * 32 * 20;

function constant(v: number, n = N): Uint8Array {
  return new Uint8Array(n).fill(v);
}

function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  const mean = s / values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / values.length) };
}

describe("gaussian_noise", () => {
  it("adds N(0, c) in [0,1] units: std of the change on mid-grey is c*255 (truncation shifts the mean by -0.5)", () => {
    for (const c of [0.04, 0.1, 0.38]) {
      const out = gaussianNoise(constant(128), c, new Rng(1));
      const d = Array.from(out, (v) => v - 128);
      const { mean, std } = moments(d);
      if (c < 0.2) {
        // No clipping at 128 +- 4 sigma.
        expect(Math.abs(std / (c * 255) - 1)).toBeLessThan(0.02);
        expect(Math.abs(mean + 0.5)).toBeLessThan(0.4);
      } else {
        // Clipped at 0 and 255: still symmetric around 127.5, std below c*255.
        expect(std).toBeLessThan(c * 255);
        expect(std).toBeGreaterThan(0.6 * c * 255);
      }
    }
  });
});

describe("shot_noise", () => {
  it("poisson(x c)/c keeps the mean and has std 255 sqrt(x/c)", () => {
    for (const c of [500, 50]) {
      const out = shotNoise(constant(128), c, new Rng(2));
      const x = 128 / 255;
      const { mean, std } = moments(out);
      // floor() of the scaled value removes about 0.5 on average.
      const expectedStd = 255 * Math.sqrt(x / c);
      expect(Math.abs(mean - (128 - 0.5))).toBeLessThan(1);
      expect(Math.abs(std / expectedStd - 1)).toBeLessThan(0.05);
    }
  });

  it("takes only the values floor(255 k / c) with Poisson(x c) frequencies (ImageNet severity 5, c = 3)", () => {
    const c = 3;
    const out = shotNoise(constant(128), c, new Rng(7));
    const lam = (128 / 255) * c;
    const levels = [0, 85, 170, 255];
    const pk = [0, 1, 2].map((k) => (Math.exp(-lam) * lam ** k) / [1, 1, 2][k]);
    const expected = [...pk, 1 - pk[0] - pk[1] - pk[2]]; // k >= 3 clips to 255
    for (let i = 0; i < 4; i++) {
      const frac = out.filter((v) => v === levels[i]).length / out.length;
      expect(Math.abs(frac - expected[i])).toBeLessThan(0.01);
    }
    expect(out.every((v) => levels.includes(v))).toBe(true);
  });

  it("leaves black black (poisson(0) = 0)", () => {
    expect(shotNoise(constant(0, 300), 50, new Rng(3)).every((v) => v === 0)).toBe(true);
  });
});

describe("impulse_noise", () => {
  it("replaces a fraction `amount` of the values, half by 255 and half by 0", () => {
    for (const amount of [0.01, 0.07, 0.27]) {
      const out = impulseNoise(constant(100), amount, new Rng(4));
      let salt = 0;
      let pepper = 0;
      for (const v of out) {
        if (v === 255) salt++;
        else if (v === 0) pepper++;
        else expect(v).toBe(100);
      }
      const frac = (salt + pepper) / N;
      const sd = Math.sqrt((amount * (1 - amount)) / N);
      expect(Math.abs(frac - amount)).toBeLessThan(5 * sd);
      expect(Math.abs(salt / (salt + pepper) - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / (salt + pepper)));
    }
  });
});

describe("poisson sampler", () => {
  it("matches mean = variance = lambda on both branches (multiplication < 10 <= PTRS)", () => {
    const rng = new Rng(5);
    for (const lam of [0.3, 4, 9.99, 10, 37.5, 500]) {
      const draws = Array.from({ length: 20000 }, () => poisson(lam, rng));
      const { mean, std } = moments(draws);
      expect(Math.abs(mean - lam)).toBeLessThan(5 * Math.sqrt(lam / draws.length));
      expect(Math.abs(std * std - lam) / lam).toBeLessThan(0.06);
      expect(draws.every((k) => Number.isInteger(k) && k >= 0)).toBe(true);
    }
  });

  it("P(k) of a small lambda matches the pmf", () => {
    const rng = new Rng(6);
    const lam = 2.5;
    const n = 50000;
    const counts = new Array(12).fill(0);
    for (let i = 0; i < n; i++) counts[Math.min(11, poisson(lam, rng))]++;
    let fact = 1;
    for (let k = 0; k < 8; k++) {
      if (k > 0) fact *= k;
      const p = (Math.exp(-lam) * lam ** k) / fact;
      expect(Math.abs(counts[k] / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-4);
    }
  });

  it("logGamma agrees with log((n-1)!)", () => {
    let lf = 0;
    for (let n = 1; n < 60; n++) {
      if (n > 1) lf += Math.log(n - 1);
      expect(logGamma(n)).toBeCloseTo(lf, 9);
    }
  });
});
