// Tiny checkpoints (the det-weight models of tiny_models.ts written as safetensors) and a runner of the built CLI,
// for the `zoa demo` tests: they stand in for the shipped demo models, so the tests take seconds.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeSafetensors, type WritableTensor } from "../../src/io/safetensors.js";
import type { Classifier } from "../../src/models/model.js";
import { tinyResNet, tinyViT } from "./tiny_models.js";

export const CLI = "dist/cli.js";

/** Builds dist/ when it is missing (as the eval CLI test does). */
export function ensureBuilt(): void {
  if (!existsSync(CLI)) execFileSync("node", ["tools/build.mjs"]);
}

export function zoa(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync("node", [CLI, ...args], { encoding: "utf8" });
}

function save(file: string, model: Classifier, metadata: Record<string, string>): string {
  const tensors: Record<string, WritableTensor> = {};
  for (const name of model.params.names()) {
    const t = model.params.get(name);
    tensors[name] = { dtype: "F32", shape: t.shape, data: t.data };
  }
  writeSafetensors(file, tensors, { mean: "[0.5,0.5,0.5]", std: "[0.25,0.25,0.25]", ...metadata });
  return file;
}

/** tiny CIFAR ResNet-8 (runs on 32x32) and tiny ViT (16x16, patch 4, dim 32, depth 3) checkpoints in `dir`. */
export function writeTinyCheckpoints(dir: string): { resnet: string; vit: string } {
  return {
    resnet: save(join(dir, "tiny_resnet8.safetensors"), tinyResNet(), { arch: "tiny_resnet8" }),
    vit: save(join(dir, "tiny_vit.safetensors"), tinyViT(), { arch: "tiny_vit", img_size: "16", patch_size: "4", num_heads: "2", mlp_ratio: "4", norm_eps: "1e-6" }),
  };
}
