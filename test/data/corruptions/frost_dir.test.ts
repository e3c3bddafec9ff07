// corruptions/index.ts (Node) adds `frostDir` to the browser-safe corrupt.ts: frost then draws from the reference
// textures read from that directory. Oracle: corrupt.ts given the same textures explicitly (loadFrostTextures).
import { describe, expect, it } from "vitest";
import { corruptSet as corruptSetBrowser } from "../../../src/data/corruptions/corrupt.js";
import { loadFrostTextures } from "../../../src/data/corruptions/frost_files.js";
import { corrupt, corruptSet, frostTexturesFor } from "../../../src/data/corruptions/index.js";
import { Rng } from "../../../src/tensor/rng.js";
import { sharedPath } from "../../helpers/shared.js";
import { randomImages } from "../../helpers/tiny_models.js";

const dir = sharedPath("data/frost/frost1.png") ? sharedPath("data/frost") : null; // skips with a printed reason

describe.skipIf(dir === null)("frostDir (index.ts)", () => {
  const set = randomImages(8, 4, 0, 32);

  it("corruptSet with frostDir equals corrupt.ts with the directory's textures, and differs from the procedural stand-in", () => {
    const frost = loadFrostTextures(dir as string, "cifar");
    const viaDir = corruptSet(set, "frost", 5, 3, { frostDir: dir as string });
    expect(Array.from(viaDir.images)).toEqual(Array.from(corruptSetBrowser(set, "frost", 5, 3, { frost }).images));
    expect(Array.from(viaDir.images)).not.toEqual(Array.from(corruptSetBrowser(set, "frost", 5, 3).images));
    expect(frostTexturesFor("cifar", { frostDir: dir as string })).toBe(frost);
  });

  it("corrupt (one image) with frostDir equals corrupt.ts with the textures", () => {
    const img = set.images.subarray(0, 3 * 32 * 32);
    const frost = loadFrostTextures(dir as string, "cifar");
    const a = corrupt("frost", img, 32, 32, 4, new Rng(9), { frostDir: dir as string });
    expect(Array.from(a)).toEqual(Array.from(corrupt("frost", img, 32, 32, 4, new Rng(9), { frost })));
  });
});
