// Structural checks on the committed goldens: shapes agree with data, floats are exact float32 values, size limits
// hold, and model param lists agree with det weights. Value comparisons live in the op and model tests.
import { readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { detTensorValues } from "../helpers/detweights.js";
import {
  GOLDEN_DIR,
  isGoldenArray,
  loadGolden,
  type GoldenArray,
  type OpsGolden,
  type ParamSpec,
} from "../helpers/golden.js";

const MAX_FILE_BYTES = 1_500_000;
const MAX_TOTAL_BYTES = 6_000_000;
const MODEL_FILES = ["cifar_resnet_tiny", "vit_tiny", "tv_resnet18", "tv_resnet50", "vit_b16"];

function checkArray(g: GoldenArray, where: string): void {
  expect(g.data.length, where).toBe(g.shape.reduce((a, b) => a * b, 1));
  const ok = g.dtype === "int64" ? g.data.every(Number.isInteger) : g.data.every((x) => Math.fround(x) === x);
  expect(ok, where).toBe(true);
}

describe("golden fixtures", () => {
  it("respect the size limits", () => {
    const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith(".json"));
    let total = 0;
    for (const f of files) {
      const size = statSync(resolve(GOLDEN_DIR, f)).size;
      expect(size, f).toBeLessThan(MAX_FILE_BYTES);
      total += size;
    }
    expect(total).toBeLessThan(MAX_TOTAL_BYTES);
  });

  it("ops.json cases are well formed", () => {
    const { cases } = loadGolden<OpsGolden>("ops");
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) {
      for (const [k, g] of Object.entries(c.inputs)) checkArray(g, `${c.name}.inputs.${k}`);
      if (isGoldenArray(c.output)) checkArray(c.output, `${c.name}.output`);
      else for (const [k, g] of Object.entries(c.output)) checkArray(g, `${c.name}.output.${k}`);
    }
  });

  it.each(MODEL_FILES)("%s: param list matches det weights", (name) => {
    const g = loadGolden<{ params: ParamSpec[]; numParamValues: number; logits: GoldenArray }>(name);
    checkArray(g.logits, `${name}.logits`);
    let n = 0;
    for (const p of g.params) n += p.shape.reduce((a, b) => a * b, 1);
    expect(n).toBe(g.numParamValues);
    // Spot-check that every listed tensor gets det values (no num_batches_tracked slipped in).
    for (const p of g.params.slice(0, 8)) expect(detTensorValues(p.name, p.shape)).not.toBeNull();
  });
});
