// The "population" SPSA estimate (a zoa-ts variant beyond the paper, still two forward passes per batch, no
// backprop). The perturbed pass gives every group of samples its own perturbation: the batch's N samples are
// split into P groups (sample n in group n mod P), group g runs with norm parameters v + c * u_g through a
// per-sample affine (src/models/per_sample_affine.ts), and the clean pass of the same samples is the baseline:
//   g_k = (1/P) sum_g (L_g(v + c u_g) - L_g(v)) / (c u_{g,k}),
//   L_g = lambda * D(group g's feature statistics vs source) + mean entropy over group g.
// P independent directions per batch instead of one: for d coordinates the variance of one-perturbation SPSA
// is about d times the squared gradient, so averaging P paired estimates divides it by about P. BatchNorm
// statistics are still taken over the whole batch (the perturbations are zero-mean across groups, so their
// effect on the statistics is second order).
import type { Features, NormAffine } from "../models/model.js";
import { Tensor } from "../tensor/tensor.js";
import { type SourceStats, meanEntropy, statDiscrepancy } from "./features.js";

/** Rows `rows` of t [N, ...] as a new tensor [rows.length, ...]. */
export function takeRows(t: Tensor, rows: readonly number[]): Tensor {
  const per = t.size / t.shape[0];
  const out = new Float32Array(rows.length * per);
  rows.forEach((r, i) => out.set(t.data.subarray(r * per, (r + 1) * per), i * per));
  return new Tensor([rows.length, ...t.shape.slice(1)], out);
}

/** Sample indices of each of the P groups: group g = {n : n mod P = g}. */
export function groupMembers(N: number, P: number): number[][] {
  const groups: number[][] = Array.from({ length: Math.min(P, N) }, () => []);
  for (let n = 0; n < N; n++) groups[n % groups.length].push(n);
  return groups;
}

/**
 * Loss of every group from one forward pass. The statistics term needs at least 2 samples per group (a std);
 * with single-sample groups only the entropy is used.
 */
export function groupLosses(logits: Tensor, features: Features, src: SourceStats, lambda: number, groups: number[][]): number[] {
  return groups.map((rows) => {
    const h = meanEntropy(takeRows(logits, rows));
    if (rows.length < 2 || lambda === 0) return h;
    const f: Features = {
      embed: features.embed,
      stages: features.stages.map((s) => takeRows(s, rows)),
      final: takeRows(features.final, rows),
    };
    return lambda * statDiscrepancy(f, src) + h;
  });
}

/**
 * Per-sample affine [N, C] of every norm layer from one override map per group (sample n takes its group's
 * parameters).
 */
export function perSampleOverrides(perGroup: Map<string, NormAffine>[], groups: number[][], N: number): Map<string, NormAffine> {
  const out = new Map<string, NormAffine>();
  for (const name of perGroup[0].keys()) {
    const C = perGroup[0].get(name)!.weight.size;
    const w = new Float32Array(N * C);
    const b = new Float32Array(N * C);
    groups.forEach((rows, g) => {
      const o = perGroup[g].get(name)!;
      for (const n of rows) {
        w.set(o.weight.data, n * C);
        b.set(o.bias.data, n * C);
      }
    });
    out.set(name, { weight: new Tensor([N, C], w), bias: new Tensor([N, C], b) });
  }
  return out;
}
