// `zoa eval` through the built CLI: exit codes and one-line errors, and (with ../shared) JSON fields and --preds.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sharedPath } from "../helpers/shared.js";

const CLI = "dist/cli.js";

beforeAll(() => {
  if (!existsSync(CLI)) execFileSync("node", ["tools/build.mjs"]);
});

function zoa(...args: string[]) {
  return spawnSync("node", [CLI, ...args], { encoding: "utf8" });
}

describe("zoa eval", () => {
  it("unknown flag: one line on stderr, exit 2", () => {
    const r = zoa("eval", "--model", "m", "--frobnicate", "3");
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown flag --frobnicate/);
  });

  it("missing file: one line naming the flag and path, exit 2", () => {
    const r = zoa("eval", "--model", "/nonexistent/model.safetensors", "--data", "/nonexistent/data.bin");
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("error: zoa eval: --model /nonexistent/model.safetensors: no such file");
  });

  it("a corrupt checkpoint: one line naming the file, exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "zoa-eval-"));
    const model = join(dir, "bad.safetensors");
    const data = join(dir, "d.bin");
    writeFileSync(model, new Uint8Array([1, 2, 3]));
    writeFileSync(data, new Uint8Array(3073));
    const r = zoa("eval", "--model", model, "--data", data);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("bad.safetensors");
  });

  it("--json fields and --preds bytes on ResNet-20 (first 128 images)", () => {
    const model = sharedPath("models/resnet20-cifar10.safetensors");
    const data = sharedPath("data/cifar10/test_batch.bin");
    const ref = sharedPath("reference/resnet20-fp32-pred.u8");
    if (!model || !data || !ref) return;
    const dir = mkdtempSync(join(tmpdir(), "zoa-eval-"));
    const preds = join(dir, "p.u8");
    const r = zoa("eval", "--model", model, "--data", data, "--limit", "128", "--json", "--preds", preds, "--quiet");
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { correct: number; total: number; top1: number; imagesPerSecond: number };
    expect(out.total).toBe(128);
    expect(out.top1).toBeCloseTo((100 * out.correct) / 128, 10);
    expect(out.imagesPerSecond).toBeGreaterThan(0);
    const p = readFileSync(preds);
    expect(p.length).toBe(128);
    expect([...p]).toEqual([...readFileSync(ref).subarray(0, 128)]);
  });

  it("refuses to write --preds over an input", () => {
    const model = sharedPath("models/resnet20-cifar10.safetensors");
    const data = sharedPath("data/cifar10/test_batch.bin");
    if (!model || !data) return;
    const r = zoa("eval", "--model", model, "--data", data, "--limit", "1", "--preds", data, "--quiet");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/would overwrite an input file/);
  });
});
