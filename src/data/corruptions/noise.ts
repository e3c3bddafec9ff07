// Noise corruptions of make_cifar_c.py, on x = image/255 (float64), output np.uint8(clip(., 0, 1) * 255):
//   gaussian_noise: x + N(0, c)
//   shot_noise:     poisson(x * c) / c
//   impulse_noise:  skimage random_noise(mode='s&p', amount=c): each value independently replaced with
//                   probability c, by 1 (salt) or 0 (pepper) with probability 1/2 each.
// The draws come from zoa-ts's Rng, so values differ from numpy's stream but follow the same distributions.
import type { Rng } from "../../tensor/rng.js";
import { toUnit, unitToUint8 } from "./image.js";

export function gaussianNoise(data: Uint8Array, std: number, rng: Rng): Uint8Array {
  const x = toUnit(data);
  for (let i = 0; i < x.length; i++) x[i] += rng.normal() * std;
  return unitToUint8(x);
}

export function shotNoise(data: Uint8Array, c: number, rng: Rng): Uint8Array {
  const x = toUnit(data);
  for (let i = 0; i < x.length; i++) x[i] = poisson(x[i] * c, rng) / c;
  return unitToUint8(x);
}

export function impulseNoise(data: Uint8Array, amount: number, rng: Rng): Uint8Array {
  const x = toUnit(data);
  for (let i = 0; i < x.length; i++) {
    if (rng.uniform() < amount) x[i] = rng.uniform() < 0.5 ? 1 : 0;
  }
  return unitToUint8(x);
}

/**
 * A Poisson(lam) draw with numpy's legacy algorithms: multiplication of uniforms for lam < 10, Hormann's
 * PTRS (transformed rejection with squeeze, 1993) for lam >= 10.
 */
export function poisson(lam: number, rng: Rng): number {
  if (lam <= 0) return 0;
  if (lam < 10) {
    const enlam = Math.exp(-lam);
    let k = 0;
    let prod = 1;
    for (;;) {
      prod *= rng.uniform();
      if (prod > enlam) k += 1;
      else return k;
    }
  }
  const slam = Math.sqrt(lam);
  const loglam = Math.log(lam);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.uniform() - 0.5;
    const v = rng.uniform();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lam + k * loglam - logGamma(k + 1)) return k;
  }
}

const LOGGAM_A = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4,
  -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059,
];

/** log Gamma(x) for x > 0 (numpy's random_loggam: Stirling series, shifted up to x >= 7). */
export function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0;
  let x0 = x;
  let n = 0;
  if (x <= 7) {
    n = Math.trunc(7 - x);
    x0 = x + n;
  }
  const x2 = 1 / (x0 * x0);
  let gl0 = LOGGAM_A[9];
  for (let k = 8; k >= 0; k--) {
    gl0 *= x2;
    gl0 += LOGGAM_A[k];
  }
  let gl = gl0 / x0 + 0.5 * Math.log(2 * Math.PI) + (x0 - 0.5) * Math.log(x0) - x0;
  if (x <= 7) {
    for (let k = 1; k <= n; k++) {
      gl -= Math.log(x0 - 1);
      x0 -= 1;
    }
  }
  return gl;
}
