// `zoa corrupt` (src/cli/corrupt.ts): files, manifest, summary, merging severities, and one-line usage errors.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { UsageError } from "../../src/cli/args.js";
import { type CorruptManifest, corruptCommand, packageVersion } from "../../src/cli/corrupt.js";
import { encodeCifar, readCifar } from "../../src/data/cifar.js";
import { corruptSet } from "../../src/data/corruptions/index.js";
import { syntheticImage } from "./synthetic.js";

const tmp = mkdtempSync(join(tmpdir(), "zoa-corrupt-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const n = 12;
const images = new Uint8Array(n * 3072);
for (let i = 0; i < n; i++) images.set(syntheticImage(32, 32).map((v) => (v + 11 * i) & 255), i * 3072);
const clean = { images, labels: Uint8Array.from({ length: n }, (_, i) => (3 * i) % 10), count: n, channels: 3, height: 32, width: 32 };
const data = join(tmp, "clean.bin");
writeFileSync(data, encodeCifar(clean));

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const logs: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((s: unknown) => void logs.push(String(s)));
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const code = await corruptCommand(argv);
    return { code, out: logs.join("\n") };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

describe("zoa corrupt", () => {
  const out = join(tmp, "out");

  it("writes <corruption>-s<severity>.bin with labels kept, a manifest and a summary table", async () => {
    const r = await run(["--data", data, "--out", out, "--corruptions", "fog,contrast", "--severity", "5", "--limit", "10", "--seed", "3", "--quiet"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/contrast\s+5\s+10/);
    expect(r.out).toMatch(/fog\s+5\s+10/);
    const fog = readCifar(join(out, "fog-s5.bin"));
    expect(fog.count).toBe(10);
    expect(Array.from(fog.labels)).toEqual(Array.from(clean.labels.subarray(0, 10)));
    const expected = corruptSet({ ...clean, images: images.subarray(0, 10 * 3072), labels: clean.labels.subarray(0, 10), count: 10 }, "fog", 5, 3);
    expect(Buffer.from(fog.images).equals(Buffer.from(expected.images))).toBe(true);
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as CorruptManifest;
    expect(m.seed).toBe(3);
    expect(m.severity).toEqual([5]);
    expect(m.corruptions).toEqual(["fog", "contrast"]); // standard order, whatever the flag order
    expect(m.limit).toBe(10);
    expect(m.version).toBe(packageVersion());
    expect(m.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.frost).toBe("unused");
    expect(m.files.map((f) => f.file)).toEqual(["fog-s5.bin", "contrast-s5.bin"]);
  });

  it("adds another severity to the same manifest", async () => {
    await run(["--data", data, "--out", out, "--corruptions", "contrast", "--severity", "3", "--limit", "10", "--seed", "3", "--quiet"]);
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as CorruptManifest;
    expect(m.severity).toEqual([3, 5]);
    expect(m.files.map((f) => f.file)).toEqual(["contrast-s3.bin", "fog-s5.bin", "contrast-s5.bin"]);
  });

  it("records the procedural frost stand-in when no --frost is given", async () => {
    await run(["--data", data, "--out", join(tmp, "frost"), "--corruptions", "frost", "--limit", "2", "--quiet"]);
    const m = JSON.parse(readFileSync(join(tmp, "frost", "manifest.json"), "utf8")) as CorruptManifest;
    expect(m.frost).toBe("procedural");
  });

  it("refuses bad flags with one-line UsageErrors", async () => {
    await expect(run(["--data", data, "--out", out, "--corruptions", "fog,rain"])).rejects.toThrow(/unknown corruption 'rain' \(valid: all, gaussian_noise, .*jpeg_compression\)/);
    await expect(run(["--data", data, "--out", out, "--severity", "6"])).rejects.toThrow(UsageError);
    await expect(run(["--data", data])).rejects.toThrow(/--out is required/);
    await expect(run(["--data", join(tmp, "missing.bin"), "--out", out])).rejects.toThrow(/no such file/);
    await expect(run(["--data", data, "--out", out, "--frost", join(tmp, "nofrost"), "--corruptions", "frost"])).rejects.toThrow(/--frost .*no such directory/);
    await expect(run(["--data", data, "--out", data])).rejects.toThrow(/not a directory/);
  });

  it("never overwrites the input file", async () => {
    const dir = join(tmp, "same");
    await run(["--data", data, "--out", dir, "--corruptions", "contrast", "--limit", "1", "--quiet"]);
    const input = join(dir, "contrast-s5.bin");
    const before = readFileSync(input);
    await expect(run(["--data", input, "--out", dir, "--corruptions", "contrast", "--quiet"])).rejects.toThrow(/would overwrite an input file/);
    expect(readFileSync(input).equals(before)).toBe(true);
    expect(existsSync(join(dir, "manifest.json"))).toBe(true);
  });

  it("prints help with the corruption names", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--severity/);
    expect(r.out).toMatch(/elastic_transform/);
  });
});
