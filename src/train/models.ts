// Trainable versions of the CIFAR ResNet (src/models/resnet.ts) and the ViT (src/models/vit.ts): the same forward
// code, op for op, on Vars, under the same state-dict names (taken from resnetParamSpec / vitParamSpec), so a trained
// checkpoint loads with src/models/load.ts and the inference models reproduce these logits.
// Init: convs and the ResNet head Kaiming-normal (He et al. 2015, fan_in, gain sqrt 2, as akamaster's _weights_init);
// ViT linears, pos_embed and cls_token truncated normal (std 0.02, cut at 2 std), patch embedding PyTorch's conv
// default U(+-1/sqrt(fan_in)) (timm's init_weights_vit_timm leaves it); norms weight 1 bias 0; BatchNorm running
// mean 0, var 1, updated with momentum 0.1 in training mode. Biases 0.
import { ParamMap } from "../models/params.js";
import { type ResNetConfig, resnetBlocks, resnetParamSpec } from "../models/resnet.js";
import { BN_EPS, type BlockSpec } from "../models/resnet_blocks.js";
import { type ViTConfig, vitParamSpec } from "../models/vit.js";
import type { Rng } from "../tensor/rng.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, param } from "./autograd.js";
import { type TrainLayerOps, floatTrainLayers } from "./layer_ops.js";
import { add, mul, relu, gelu } from "./grad_elementwise.js";
import { concat, expand, flatten, pad, permute, reshape, slice } from "./grad_movement.js";
import { batchNorm, layerNorm } from "./grad_norm.js";
import { globalAvgPool2d } from "./grad_pool.js";
import { softmax } from "./grad_softmax.js";

export const BN_MOMENTUM = 0.1;

export type TrainArch = { kind: "cifar_resnet"; config: ResNetConfig } | { kind: "vit"; config: ViTConfig };

export interface TrainModel {
  readonly arch: TrainArch;
  /** Trainable tensors by state-dict name. */
  readonly params: Map<string, Var>;
  /** Non-trainable state by state-dict name: BatchNorm running_mean / running_var (updated in training mode). */
  readonly buffers: Map<string, Tensor>;
  /** Execution of convs, linears and attention matmuls (default floatTrainLayers; TENT-STE: quant_layers.ts). */
  readonly layers?: TrainLayerOps;
}

/** Every tensor name and shape of the architecture (the single source shared with the inference models). */
export function paramSpec(arch: TrainArch): [string, number[]][] {
  return arch.kind === "vit" ? vitParamSpec(arch.config) : resnetParamSpec(arch.config);
}

const isBuffer = (name: string): boolean => name.endsWith(".running_mean") || name.endsWith(".running_var");

function normal(rng: Rng, shape: readonly number[], std: number, truncate: boolean): Tensor {
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) {
    let v = rng.normal();
    while (truncate && Math.abs(v) > 2) v = rng.normal();
    t.data[i] = v * std;
  }
  return t;
}

function uniform(rng: Rng, shape: readonly number[], bound: number): Tensor {
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.uniformIn(-bound, bound);
  return t;
}

/** Initial value of tensor `name` of `shape` (see the header for the rules). */
function initTensor(arch: TrainArch, name: string, shape: readonly number[], normNames: ReadonlySet<string>, rng: Rng): Tensor {
  const prefix = name.slice(0, name.lastIndexOf("."));
  if (name.endsWith(".running_var")) return Tensor.full(shape, 1);
  if (name.endsWith(".running_mean")) return Tensor.zeros(shape);
  if (normNames.has(prefix)) return name.endsWith(".weight") ? Tensor.full(shape, 1) : Tensor.zeros(shape);
  const fanIn = shape.slice(1).reduce((p, d) => p * d, 1);
  if (arch.kind === "cifar_resnet") return shape.length >= 2 ? normal(rng, shape, Math.sqrt(2 / fanIn), false) : Tensor.zeros(shape);
  if (name.startsWith("patch_embed.proj.")) {
    const convFanIn = arch.config.inChans * arch.config.patchSize ** 2;
    return uniform(rng, shape, 1 / Math.sqrt(convFanIn));
  }
  if (name === "pos_embed" || name === "cls_token" || shape.length >= 2) return normal(rng, shape, 0.02, true);
  return Tensor.zeros(shape);
}

/** Norm layer prefixes: BatchNorms (they have running statistics) and the ViT LayerNorms. */
function normLayerNames(arch: TrainArch, names: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (const n of names) {
    if (n.endsWith(".running_mean")) set.add(n.slice(0, -".running_mean".length));
    if (arch.kind === "vit" && /(^|\.)norm\d?\.weight$/.test(n)) set.add(n.slice(0, -".weight".length));
  }
  return set;
}

/** A freshly initialised model. @example initModel({ kind: "cifar_resnet", config: cifarResNetConfig(8) }, new Rng(0)) */
export function initModel(arch: TrainArch, rng: Rng): TrainModel {
  if (arch.kind === "cifar_resnet" && (arch.config.variant !== "cifar" || arch.config.block !== "basic")) {
    throw new Error(`initModel: only the CIFAR ResNet (basic blocks) is trainable, got ${arch.config.variant}/${arch.config.block}`);
  }
  const spec = paramSpec(arch);
  const normNames = normLayerNames(
    arch,
    spec.map(([n]) => n),
  );
  const params = new Map<string, Var>();
  const buffers = new Map<string, Tensor>();
  for (const [name, shape] of spec) {
    const t = initTensor(arch, name, shape, normNames, rng);
    if (isBuffer(name)) buffers.set(name, t);
    else params.set(name, param(t));
  }
  return { arch, params, buffers };
}

/** Every tensor of the model by name (parameters and buffers share the live storage, no copy). */
export function stateTensors(model: TrainModel): Map<string, Tensor> {
  const all = new Map<string, Tensor>();
  for (const [name] of paramSpec(model.arch)) {
    const v = model.params.get(name)?.value ?? model.buffers.get(name);
    if (!v) throw new Error(`stateTensors: missing '${name}'`);
    all.set(name, v);
  }
  return all;
}

/** The parameters as the inference models take them (live storage: later training steps show through). */
export function toParamMap(model: TrainModel): ParamMap {
  return new ParamMap(stateTensors(model), `train:${model.arch.kind}`);
}

/** Whether weight decay applies: weight matrices and conv kernels, not biases, norms, pos_embed or cls_token. */
export function decays(name: string, shape: readonly number[]): boolean {
  return shape.length >= 2 && name !== "pos_embed" && name !== "cls_token";
}

/** logits [N, classes] of x [N, C, H, W] (normalised): training mode uses BatchNorm batch statistics. */
export function forward(model: TrainModel, x: Var, training: boolean): Var {
  return model.arch.kind === "vit" ? vitForward(model, model.arch.config, x) : resnetForward(model, model.arch.config, x, training);
}

function ops(model: TrainModel): TrainLayerOps {
  return model.layers ?? floatTrainLayers;
}

function p(model: TrainModel, name: string): Var {
  const v = model.params.get(name);
  if (!v) throw new Error(`${model.arch.kind}: missing parameter '${name}'`);
  return v;
}

// ---- CIFAR ResNet: conv1 3x3/16 -> bn1 -> relu -> layer1..3 -> global avg pool -> linear (resnet.ts) ----

function bn(model: TrainModel, name: string, x: Var, training: boolean): Var {
  return batchNorm(
    x,
    {
      weight: p(model, `${name}.weight`),
      bias: p(model, `${name}.bias`),
      runningMean: model.buffers.get(`${name}.running_mean`) ?? null,
      runningVar: model.buffers.get(`${name}.running_var`) ?? null,
      eps: BN_EPS,
      momentum: BN_MOMENTUM,
    },
    training,
  );
}

/** Option A shortcut: x[:, :, ::s, ::s], then zero channels split before and after (resnet_blocks.ts optionA). */
function optionA(x: Var, b: BlockSpec): Var {
  const sub = b.stride === 1 ? x : slice(x, [null, null, { step: b.stride }, { step: b.stride }]);
  const extra = b.planes - b.inPlanes;
  const before = Math.floor(extra / 2);
  return pad(sub, [[0, 0], [before, extra - before], [0, 0], [0, 0]]);
}

function basicBlock(model: TrainModel, b: BlockSpec, x: Var, training: boolean): Var {
  const L = ops(model);
  let out = relu(bn(model, `${b.name}.bn1`, L.conv2d(`${b.name}.conv1`, x, p(model, `${b.name}.conv1.weight`), null, { stride: b.stride, padding: 1 }), training));
  out = bn(model, `${b.name}.bn2`, L.conv2d(`${b.name}.conv2`, out, p(model, `${b.name}.conv2.weight`), null, { stride: 1, padding: 1 }), training);
  const sc = b.shortcut === "identity" ? x : optionA(x, b);
  return relu(add(out, sc));
}

function resnetForward(model: TrainModel, c: ResNetConfig, x: Var, training: boolean): Var {
  const L = ops(model);
  let h = relu(bn(model, "bn1", L.conv2d("conv1", x, p(model, "conv1.weight"), null, { stride: 1, padding: 1 }), training));
  for (const stage of resnetBlocks(c)) for (const b of stage) h = basicBlock(model, b, h, training);
  const final = flatten(globalAvgPool2d(h), 1);
  return L.linear("linear", final, p(model, "linear.weight"), p(model, "linear.bias"));
}

// ---- ViT: patch conv -> [CLS] + patches + pos_embed -> pre-norm blocks -> norm -> head(CLS) (vit.ts) ----
// N=batch T=tokens D=embed dim H=heads d=D/H

function vitAttention(model: TrainModel, c: ViTConfig, i: number, x: Var): Var {
  const [N, T, D] = x.shape;
  const H = c.numHeads;
  const d = D / H;
  const pre = `blocks.${i}.attn`;
  const L = ops(model);
  const qkv = L.linear(`${pre}.qkv`, x, p(model, `${pre}.qkv.weight`), p(model, `${pre}.qkv.bias`)); // [N, T, 3D]
  const heads = permute(reshape(qkv, [N, T, 3, H, d]), [2, 0, 3, 1, 4]); // [3, N, H, T, d]
  const q = reshape(slice(heads, [{ start: 0, end: 1 }]), [N, H, T, d]);
  const k = reshape(slice(heads, [{ start: 1, end: 2 }]), [N, H, T, d]);
  const v = reshape(slice(heads, [{ start: 2, end: 3 }]), [N, H, T, d]);
  const scores = mul(L.matmul(`${pre}.qk`, q, k, { transposeB: true }), d ** -0.5); // [N, H, T, T]
  const ctx = L.matmul(`${pre}.av`, softmax(scores, -1), v, {}); // [N, H, T, d]
  const merged = reshape(permute(ctx, [0, 2, 1, 3]), [N, T, D]);
  return L.linear(`${pre}.proj`, merged, p(model, `${pre}.proj.weight`), p(model, `${pre}.proj.bias`));
}

function vitForward(model: TrainModel, c: ViTConfig, x: Var): Var {
  const N = x.shape[0];
  const D = c.embedDim;
  const P = (c.imgSize / c.patchSize) ** 2;
  const ln = (name: string, t: Var) => layerNorm(t, p(model, `${name}.weight`), p(model, `${name}.bias`), c.eps);
  const L = ops(model);
  const pe = L.conv2d("patch_embed.proj", x, p(model, "patch_embed.proj.weight"), p(model, "patch_embed.proj.bias"), { stride: c.patchSize }); // [N, D, h, w]
  const patches = permute(reshape(pe, [N, D, P]), [0, 2, 1]); // [N, P, D]
  const cls = expand(p(model, "cls_token"), [N, 1, D]);
  let tokens = add(concat([cls, patches], 1), p(model, "pos_embed")); // [N, 1+P, D]
  for (let i = 0; i < c.depth; i++) {
    tokens = add(tokens, vitAttention(model, c, i, ln(`blocks.${i}.norm1`, tokens)));
    const pre = `blocks.${i}.mlp`;
    const hidden = gelu(L.linear(`${pre}.fc1`, ln(`blocks.${i}.norm2`, tokens), p(model, `${pre}.fc1.weight`), p(model, `${pre}.fc1.bias`)));
    tokens = add(tokens, L.linear(`${pre}.fc2`, hidden, p(model, `${pre}.fc2.weight`), p(model, `${pre}.fc2.bias`)));
  }
  const final = reshape(slice(ln("norm", tokens), [null, { start: 0, end: 1 }]), [N, D]); // class token [N, D]
  return L.linear("head", final, p(model, "head.weight"), p(model, "head.bias"));
}
