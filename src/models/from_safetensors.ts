// Building a classifier from a parsed safetensors checkpoint. The architecture comes from `__metadata__`
// ("arch", plus ViT hyper-parameters) when present, else it is inferred from the tensor names and shapes:
// timm ViT (patch_embed.proj), CIFAR ResNet (linear.weight, option-A), torchvision ResNet (fc.weight).
// Parsed files only (browser-safe): `loadModel(path)` is in load.ts.
import { type SafetensorsFile, parseSafetensors, toFloat32 } from "../io/safetensors_format.js";
import { Tensor } from "../tensor/tensor.js";
import type { Classifier } from "./model.js";
import { ModelError, ParamMap } from "./params.js";
import { type ResNetConfig, ResNet, TORCHVISION_RESNETS, cifarResNetConfig, torchvisionResNetConfig } from "./resnet.js";
import { IMAGENET_MEAN, IMAGENET_STD, type ViTConfig, VisionTransformer } from "./vit.js";

/** All float tensors of a safetensors file (integer buffers such as num_batches_tracked are skipped). */
export function paramsFromSafetensors(f: SafetensorsFile): ParamMap {
  const map = new Map<string, Tensor>();
  for (const [name, e] of f.tensors) {
    if (e.dtype === "I64" || name.endsWith("num_batches_tracked")) continue;
    map.set(name, new Tensor(e.shape, toFloat32(e)));
  }
  return new ParamMap(map, f.file);
}

function metaNumbers(f: Pick<SafetensorsFile, "file" | "metadata">, key: string): number[] | null {
  const v = f.metadata[key];
  if (v === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new ModelError(`${f.file}: __metadata__.${key} is not JSON: '${v}'`);
  }
  const arr = Array.isArray(parsed) ? parsed : [parsed];
  if (!arr.every((x) => typeof x === "number" && Number.isFinite(x))) throw new ModelError(`${f.file}: __metadata__.${key} must be numbers, got '${v}'`);
  return arr as number[];
}

function metaNumber(f: Pick<SafetensorsFile, "file" | "metadata">, key: string): number | null {
  const v = metaNumbers(f, key);
  return v ? v[0] : null;
}

function countBlocks(params: ParamMap, prefix: string): number {
  let n = 0;
  while (params.names().some((k) => k.startsWith(`${prefix}${n}.`))) n++;
  return n;
}

export function vitConfigFrom(f: Pick<SafetensorsFile, "file" | "metadata">, params: ParamMap): ViTConfig {
  const w = params.get("patch_embed.proj.weight");
  const [D, inChans, P] = w.shape;
  const pos = params.get("pos_embed").shape[1];
  const grid = Math.round(Math.sqrt(pos - 1));
  if (grid * grid !== pos - 1) throw new ModelError(`${f.file}: pos_embed has ${pos} tokens, expected 1 + a square number of patches`);
  const depth = countBlocks(params, "blocks.");
  const hidden = params.get("blocks.0.mlp.fc1.weight").shape[0];
  return {
    imgSize: metaNumber(f, "img_size") ?? grid * P,
    patchSize: metaNumber(f, "patch_size") ?? P,
    inChans,
    embedDim: D,
    depth,
    // timm's presets use 64-dim heads; ViT-Ti uses 3 heads of 64.
    numHeads: metaNumber(f, "num_heads") ?? Math.max(1, D / 64),
    mlpRatio: metaNumber(f, "mlp_ratio") ?? hidden / D,
    numClasses: params.get("head.weight").shape[0],
    eps: metaNumber(f, "norm_eps") ?? 1e-6,
  };
}

export function resnetConfigFrom(f: Pick<SafetensorsFile, "file" | "metadata">, params: ParamMap): ResNetConfig {
  if (params.has("linear.weight")) {
    const perStage = countBlocks(params, "layer1.");
    return cifarResNetConfig(6 * perStage + 2, params.get("linear.weight").shape[0]);
  }
  const layers = [1, 2, 3, 4].map((s) => countBlocks(params, `layer${s}.`));
  const bottleneck = params.has("layer1.0.conv3.weight");
  const found = Object.entries(TORCHVISION_RESNETS).find(
    ([, p]) => (p.block === "bottleneck") === bottleneck && p.layers.every((n, i) => n === layers[i]),
  );
  if (!found) throw new ModelError(`${f.file}: ResNet with blocks [${layers.join(", ")}] (${bottleneck ? "bottleneck" : "basic"}) is not resnet18/34/50/101`);
  const name = found[0] as keyof typeof TORCHVISION_RESNETS;
  return torchvisionResNetConfig(name, params.get("fc.weight").shape[0], metaNumber(f, "img_size") ?? 224);
}

/** Builds the classifier described by a parsed safetensors file. */
export function modelFromSafetensors(f: SafetensorsFile): Classifier {
  return modelFromParams(f, paramsFromSafetensors(f));
}

/** Builds a classifier from parameters plus the file's metadata (architecture, normalisation). */
export function modelFromParams(f: Pick<SafetensorsFile, "file" | "metadata">, params: ParamMap): Classifier {
  const mean = metaNumbers(f, "mean") ?? [...IMAGENET_MEAN];
  const std = metaNumbers(f, "std") ?? [...IMAGENET_STD];
  if (mean.length !== 3 || std.length !== 3) throw new ModelError(`${f.file}: __metadata__ mean/std must have 3 values`);
  const name = f.metadata.arch ?? f.file.split("/").pop() ?? "model";
  if (params.has("patch_embed.proj.weight")) return new VisionTransformer(vitConfigFrom(f, params), params, mean, std, name);
  if (params.has("conv1.weight") && (params.has("linear.weight") || params.has("fc.weight"))) {
    return new ResNet(resnetConfigFrom(f, params), params, mean, std, name);
  }
  throw new ModelError(`${f.file}: unrecognised checkpoint (expected timm ViT, CIFAR ResNet or torchvision ResNet tensor names)`);
}

/**
 * Builds the classifier held in safetensors bytes (e.g. `await (await fetch(url)).arrayBuffer()`); `file` names
 * the source in errors.
 * @example const model = modelFromBytes(await file.arrayBuffer(), file.name);
 */
export function modelFromBytes(bytes: ArrayBuffer | Uint8Array, file = "<memory>"): Classifier {
  return modelFromSafetensors(parseSafetensors(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), file));
}
