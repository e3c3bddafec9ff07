// Scalar special functions that JavaScript's Math lacks, in float64.

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/**
 * erf(x) to ~1e-15 absolute.
 * |x| < 3: erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n (2x^2)^n x / (2n+1)!!  (all terms positive, no cancellation;
 *          Abramowitz & Stegun 7.1.6).
 * |x| >= 3: erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) (A&S 7.1.14), 60 terms.
 */
export function erfSeries(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1 : -1;
  if (ax < 3) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 0; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 3);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    return x < 0 ? -r : r;
  }
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = (Math.exp(-ax * ax) * ONE_OVER_SQRT_PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

// erf on [0, 6] by cubic Hermite interpolation between grid points h = 1/64 apart, with erf and its derivative
// 2/sqrt(pi) exp(-x^2) tabulated from erfSeries: interpolation error below 1e-9 (h^4/384 times the max of the
// 4th derivative), far below float32 resolution, for a lookup and a cubic instead of a 40-term series.
const ERF_H = 1 / 64;
const ERF_N = 6 * 64;
const ERF_F = new Float64Array(ERF_N + 2);
const ERF_D = new Float64Array(ERF_N + 2);
for (let i = 0; i <= ERF_N + 1; i++) {
  const x = i * ERF_H;
  ERF_F[i] = erfSeries(x);
  ERF_D[i] = TWO_OVER_SQRT_PI * Math.exp(-x * x);
}

/** erf(x) to < 1e-9 absolute (tabulated cubic Hermite; erfSeries is the reference, ~1e-15). */
export function erf(x: number): number {
  const ax = x < 0 ? -x : x;
  if (ax >= 6) return x > 0 ? 1 : -1;
  const t = ax / ERF_H;
  const i = t | 0;
  const u = t - i;
  const u2 = u * u;
  const u3 = u2 * u;
  const r =
    (2 * u3 - 3 * u2 + 1) * ERF_F[i] +
    (u3 - 2 * u2 + u) * ERF_H * ERF_D[i] +
    (-2 * u3 + 3 * u2) * ERF_F[i + 1] +
    (u3 - u2) * ERF_H * ERF_D[i + 1];
  return x < 0 ? -r : r;
}

const INV_SQRT2 = Math.SQRT1_2;

/** GELU, exact (erf) form: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * INV_SQRT2));
}
