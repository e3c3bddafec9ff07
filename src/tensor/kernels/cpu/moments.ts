// Per-channel batch statistics for BatchNorm with batch statistics (PyTorch training mode, NormAdapt, ZOA).
// N=batch C=channels S=product of the spatial dims
//   x: [N, C, S...]  ->  out: [2, C], out[0, c] = mean[c], out[1, c] = biased variance[c]
//   mean[c] = (1/n) sum_{n,s} x[n,c,s],  var[c] = (1/n) sum_{n,s} (x[n,c,s] - mean[c])^2,  n = N*S
// batchMomentsNaive is the reference: two passes in float64 (mean, then squared deviations).
// batchMoments reads x once: shifted sums in float64 (Chan, Golub & LeVeque, "Algorithms for computing the
// sample variance", Am. Stat. 37(3), 1983, eq. 1.7 with a shift): with a pivot k[c] = x[0, c, 0],
//   d = x - k,  A = sum d,  B = sum d^2,  mean = k + A/n,  var = (B - A^2/n) / n.
// d is exact in float64 (a difference of two float32 values), d^2 rounds once; the cancellation in
// B - A^2/n is governed by (mean - k)^2 / var, a few units for a pivot drawn from the data, instead of
// mean^2 / var for the unshifted formula, so a large mean offset costs no accuracy (test: offset 1e4, std 1).
import type { KernelSpecs } from "../../backend.js";
import { Tensor } from "../../tensor.js";

type Inputs = KernelSpecs["batchMoments"]["inputs"];

function dims(x: Tensor): { N: number; C: number; S: number } {
  const N = x.shape[0];
  const C = x.shape[1];
  return { N, C, S: N * C === 0 ? 0 : x.size / (N * C) };
}

export function batchMomentsNaive({ x }: Inputs): Tensor {
  const { N, C, S } = dims(x);
  const n = N * S;
  const out = new Tensor([2, C]);
  const src = x.data;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let b = 0; b < N; b++) for (let s = 0; s < S; s++) sum += src[(b * C + c) * S + s];
    const mean = sum / n;
    let ss = 0;
    for (let b = 0; b < N; b++) {
      for (let s = 0; s < S; s++) {
        const d = src[(b * C + c) * S + s] - mean;
        ss += d * d;
      }
    }
    out.data[c] = mean;
    out.data[C + c] = ss / n;
  }
  return out;
}

export function batchMoments({ x }: Inputs): Tensor {
  const { N, C, S } = dims(x);
  const n = N * S;
  const out = new Tensor([2, C]);
  if (n === 0) {
    out.data.fill(NaN);
    return out;
  }
  const src = x.data;
  for (let c = 0; c < C; c++) {
    const k = src[c * S];
    // two independent accumulator pairs: the float64 add latency, not the loads, bounds a single chain
    let a0 = 0;
    let a1 = 0;
    let b0 = 0;
    let b1 = 0;
    for (let b = 0; b < N; b++) {
      const base = (b * C + c) * S;
      const end = base + S;
      let i = base;
      for (; i + 1 < end; i += 2) {
        const d0 = src[i] - k;
        const d1 = src[i + 1] - k;
        a0 += d0;
        b0 += d0 * d0;
        a1 += d1;
        b1 += d1 * d1;
      }
      if (i < end) {
        const d = src[i] - k;
        a0 += d;
        b0 += d * d;
      }
    }
    const A = a0 + a1;
    const B = b0 + b1;
    out.data[c] = k + A / n;
    out.data[C + c] = Math.max(0, (B - (A * A) / n) / n);
  }
  return out;
}
