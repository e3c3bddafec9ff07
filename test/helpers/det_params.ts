// The ParamMap of a golden fixture's model filled with deterministic-hash values (detweights.ts). No Node import,
// so the browser test pages use it too.
import { ParamMap } from "../../src/models/params.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { detTensorValues } from "./detweights.js";
import type { ModelGoldenBase } from "./golden.js";

/** A ParamMap holding the deterministic-hash values of every parameter a golden fixture lists. */
export function detParams(g: ModelGoldenBase): ParamMap {
  const m = new Map<string, Tensor>();
  for (const p of g.params) {
    const v = detTensorValues(p.name, p.shape);
    if (v) m.set(p.name, new Tensor(p.shape, v));
  }
  return new ParamMap(m, "det-weights");
}
