// Loading checkpoints: architecture detection from names and metadata, and errors naming file and tensor.
import { describe, expect, it } from "vitest";
import { serializeSafetensors, parseSafetensors, type WritableTensor } from "../../src/io/safetensors.js";
import { modelFromSafetensors } from "../../src/models/load.js";
import { ModelError } from "../../src/models/params.js";
import { cifarResNetConfig, resnetParamSpec } from "../../src/models/resnet.js";
import { vitParamSpec } from "../../src/models/vit.js";
import { detTensorValues } from "../helpers/detweights.js";

function file(spec: [string, number[]][], metadata: Record<string, string> = {}, drop?: string) {
  const tensors: Record<string, WritableTensor> = {};
  for (const [name, shape] of spec) {
    if (name === drop) continue;
    tensors[name] = { dtype: "F32", shape, data: detTensorValues(name, shape) ?? new Float32Array(0) };
  }
  return parseSafetensors(serializeSafetensors(tensors, metadata), "test.safetensors");
}

const vitCfg = { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 32, depth: 2, numHeads: 2, mlpRatio: 4, numClasses: 10, eps: 1e-6 };

describe("modelFromSafetensors", () => {
  it("detects a CIFAR ResNet and its depth from tensor names", () => {
    const m = modelFromSafetensors(file(resnetParamSpec(cifarResNetConfig(20)), { mean: "[0.5, 0.5, 0.5]", std: "[0.25, 0.25, 0.25]" }));
    expect(m.kind).toBe("cifar_resnet");
    expect(m.weightLayers).toHaveLength(1 + 18 + 1);
    expect(m.mean).toEqual([0.5, 0.5, 0.5]);
  });

  it("detects a timm ViT and takes heads / eps from metadata", () => {
    const m = modelFromSafetensors(file(vitParamSpec(vitCfg), { num_heads: "2", norm_eps: "1e-06" }));
    expect(m.kind).toBe("vit");
    expect(m.normLayers.map((n) => n.name)).toEqual(["blocks.0.norm1", "blocks.0.norm2", "blocks.1.norm1", "blocks.1.norm2", "norm"]);
    expect(m.matmulLayers).toEqual(["blocks.0.attn.qk", "blocks.0.attn.av", "blocks.1.attn.qk", "blocks.1.attn.av"]);
  });

  it("a missing tensor names the file and the tensor", () => {
    const f = file(vitParamSpec(vitCfg), { num_heads: "2" }, "blocks.1.mlp.fc2.bias");
    expect(() => modelFromSafetensors(f)).toThrow(ModelError);
    expect(() => modelFromSafetensors(f)).toThrow("test.safetensors: missing tensor 'blocks.1.mlp.fc2.bias'");
  });

  it("a wrong shape names the tensor and both shapes", () => {
    const spec = vitParamSpec(vitCfg).map(([n, s]): [string, number[]] => (n === "norm.weight" ? [n, [31]] : [n, s]));
    expect(() => modelFromSafetensors(file(spec, { num_heads: "2" }))).toThrow("tensor 'norm.weight' has shape [31], expected [32]");
  });

  it("bad metadata JSON names the key", () => {
    expect(() => modelFromSafetensors(file(vitParamSpec(vitCfg), { num_heads: "two" }))).toThrow("__metadata__.num_heads is not JSON");
  });

  it("an unrelated checkpoint is refused clearly", () => {
    expect(() => modelFromSafetensors(file([["foo.weight", [2, 2]]]))).toThrow(/unrecognised checkpoint/);
  });
});
