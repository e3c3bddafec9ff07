// --backend through the built CLI: gpujs is accepted by eval (same predictions as simd/cpu on ResNet-20, with
// ../shared) and by corrupt; an unknown name is a one-line usage error (exit 2) naming the choices.
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

describe("--backend", () => {
  it("corrupt: an unknown backend is a usage error naming gpujs among the choices", () => {
    const r = zoa("corrupt", "--backend", "nope", "--data", "x.bin", "--out", "y");
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("error: zoa corrupt: --backend: unknown backend 'nope' (available: auto, simd, cpu, reference, gpujs)");
  });

  it("corrupt --backend gpujs writes the same bytes as --backend cpu", () => {
    const dir = mkdtempSync(join(tmpdir(), "zoa-backend-"));
    const data = join(dir, "d.bin");
    // Two CIFAR records (label byte + 3072 pixel bytes), deterministic pixels.
    const rec = new Uint8Array(2 * 3073).map((_, i) => (i % 3073 === 0 ? 3 : (i * 37 + 11) % 256));
    writeFileSync(data, rec);
    const out: Buffer[] = [];
    for (const backend of ["gpujs", "cpu"]) {
      const o = join(dir, backend);
      const r = zoa("corrupt", "--data", data, "--out", o, "--corruptions", "gaussian_noise", "--severity", "1", "--backend", backend, "--quiet");
      expect(r.status, r.stderr).toBe(0);
      out.push(readFileSync(join(o, "gaussian_noise-s1.bin")));
    }
    expect(out[0].equals(out[1])).toBe(true);
  });

  it("eval --backend gpujs predicts like --backend cpu on ResNet-20 (first 8 images)", () => {
    const model = sharedPath("models/resnet20-cifar10.safetensors");
    const data = sharedPath("data/cifar10/test_batch.bin");
    if (!model || !data) return;
    const dir = mkdtempSync(join(tmpdir(), "zoa-backend-"));
    const preds: Buffer[] = [];
    for (const backend of ["gpujs", "cpu"]) {
      const p = join(dir, `${backend}.u8`);
      const r = zoa("eval", "--model", model, "--data", data, "--limit", "8", "--batch", "8", "--backend", backend, "--json", "--preds", p, "--quiet");
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).backend).toBe(backend);
      preds.push(readFileSync(p));
    }
    expect([...preds[0]]).toEqual([...preds[1]]);
  });
});
