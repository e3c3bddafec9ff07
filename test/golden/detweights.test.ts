// Oracle: values computed by tools/reference/detweights.py (numpy, uint64 masks). The TS port must match bit for
// bit (tolerance 0), otherwise every model golden built on det weights is meaningless.
import { describe, expect, it } from "vitest";
import {
  detHashAt,
  detInput,
  detRule,
  detTensorValues,
  detUniform,
  detUniformAt,
  fnv1a32,
} from "../helpers/detweights.js";
import { loadGolden, type DetWeightsGolden } from "../helpers/golden.js";

const golden = loadGolden<DetWeightsGolden>("detweights");

describe("detweights matches tools/reference/detweights.py exactly", () => {
  it("FNV-1a of the empty string is the offset basis", () => {
    expect(fnv1a32("")).toBe(golden.fnvEmpty);
    expect(golden.fnvEmpty).toBe(0x811c9dc5);
  });

  it.each(golden.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(fnv1a32(c.name)).toBe(c.seed);
    const values = detTensorValues(c.name, c.shape);
    if (c.skip) {
      expect(values).toBeNull();
      return;
    }
    expect(values).not.toBeNull();
    const v = values as Float32Array;
    expect(detRule(c.name, c.shape)).toEqual({ offset: c.offset, scale: c.scale });
    expect(v.length).toBe(c.shape.reduce((a, b) => a * b, 1));
    const idx = c.indices as number[];
    const n = Math.max(...idx) + 1;
    const u = detUniform(c.name, n);
    idx.forEach((i, k) => {
      expect(detHashAt(c.seed, i)).toBe((c.hash as number[])[k]);
      expect(u[i]).toBe((c.u as number[])[k]);
      expect(detUniformAt(c.name, i)).toBe((c.u as number[])[k]);
      expect(v[i]).toBe((c.values as number[])[k]);
    });
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += v[i];
    expect(sum).toBe(c.sum);
    if (c.all) expect(Array.from(v)).toEqual(c.all);
  });

  it("wraps (i + 1) mod 2^32 at far indices", () => {
    const { far } = golden;
    expect(fnv1a32(far.name)).toBe(far.seed);
    far.indices.forEach((i, k) => {
      expect(detHashAt(far.seed, i)).toBe(far.hash[k]);
      expect(detUniformAt(far.name, i)).toBe(far.u[k]);
    });
  });

  it("detInput is the 'input' tensor with offset 0, scale 1", () => {
    const x = detInput([1, 3, 2, 2]);
    const u = detUniform("input", 12);
    expect(Array.from(x)).toEqual(Array.from(u, (w) => Math.fround(w)));
  });
});
