// SPSA perturbations (zoa-method.md section 5): u_i = +-U[0.5, 1], the sign a fair coin ("segmented uniform").
// A fresh Rng per batch, derived from (seed, batch index), so a run can stop and resume with identical draws.
import { Rng } from "../tensor/rng.js";

export function batchRng(seed: number, batch: number): Rng {
  return new Rng(seed, (batch * 2 + 1) >>> 0);
}

export function segmentedUniform(rng: Rng, n: number): Float32Array {
  const u = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const mag = 0.5 + 0.5 * rng.uniform();
    u[i] = rng.uniform() < 0.5 ? -mag : mag;
  }
  return u;
}
