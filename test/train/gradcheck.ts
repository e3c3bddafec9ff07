// Gradient check: the autograd gradient of L = sum(R * f(x)), R a fixed random projection (the backward seed),
// against central finite differences of the float64 reference of f at the same float32 inputs:
//   dL/dx_j ~ (L64(x + h e_j) - L64(x - h e_j)) / 2h,  h = 1e-5 (truncation ~h^2, rounding ~1e-16/h: both < 1e-9).
// The autograd side runs in float32, so the tolerances below bound float32 rounding, not the oracle.
import { expect } from "vitest";
import { Rng } from "../../src/tensor/rng.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { type Var, backward, constant, param } from "../../src/train/autograd.js";
import { type Tolerance, expectClose } from "../helpers/close.js";
import { type A64, fromTensor } from "./ref64.js";

/** Forward values against the float64 reference: float32 rounding of short sums. */
export const FORWARD_TOL: Tolerance = { atol: 1e-5, rtol: 1e-4 };
/** Gradients: float32 accumulations of at most a few hundred terms. */
export const GRAD_TOL: Tolerance = { atol: 2e-4, rtol: 2e-3 };

const H = 1e-5;

/** Normal values (times `scale`), as float32. */
export function randTensor(rng: Rng, shape: readonly number[], scale = 1): Tensor {
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * scale;
  return t;
}

/** Uniform values in [lo, hi), as float32. */
export function uniformTensor(rng: Rng, shape: readonly number[], lo: number, hi: number): Tensor {
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.uniformIn(lo, hi);
  return t;
}

export interface GradCase {
  inputs: Tensor[];
  /** Which inputs get a gradient (default all); the others enter as constants. */
  wrt?: boolean[];
  f32: (vars: Var[]) => Var;
  f64: (xs: A64[]) => A64;
  seed: number;
  fwdTol?: Tolerance;
  gradTol?: Tolerance;
}

export function gradCheck(c: GradCase): void {
  const wrt = c.wrt ?? c.inputs.map(() => true);
  const vars = c.inputs.map((t, i) => (wrt[i] ? param(t.clone()) : constant(t.clone())));
  const out = c.f32(vars);
  const xs64 = c.inputs.map(fromTensor);
  const ref = c.f64(xs64);
  expect(out.shape, "forward shape").toEqual(ref.shape);
  expectClose(out.value.data, ref.data, c.fwdTol ?? FORWARD_TOL, "forward");

  const rng = new Rng(c.seed, 77);
  const proj = randTensor(rng, out.shape);
  backward(out, proj);
  const loss64 = (xs: A64[]): number => {
    const y = c.f64(xs);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * proj.data[i];
    return s;
  };
  xs64.forEach((x, i) => {
    if (!wrt[i]) return;
    const numeric = new Float64Array(x.data.length);
    for (let j = 0; j < x.data.length; j++) {
      const v = x.data[j];
      x.data[j] = v + H;
      const up = loss64(xs64);
      x.data[j] = v - H;
      const down = loss64(xs64);
      x.data[j] = v;
      numeric[j] = (up - down) / (2 * H);
    }
    const g = vars[i].grad;
    expect(g, `gradient of input ${i}`).not.toBeNull();
    expectClose(g!.data, numeric, c.gradTol ?? GRAD_TOL, `d/d input ${i}`);
  });
}
