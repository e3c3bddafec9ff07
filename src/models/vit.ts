// Vision Transformer with timm's VisionTransformer tensor names (Dosovitskiy et al. 2021; timm vision_transformer.py):
// conv patch embedding -> [CLS] + patches + pos_embed -> depth x pre-norm blocks -> final norm -> head(CLS).
// Block: x = x + proj(attn(norm1(x))); x = x + fc2(gelu(fc1(norm2(x)))).
// Attention: qkv = Linear(D, 3D) -> [N, T, 3, H, d] -> q, k, v [N, H, T, d]; softmax(q k^T * d^-1/2) v.
// N=batch T=tokens D=embed dim H=heads d=D/H P=patch size.
import { add, gelu, mul } from "../tensor/ops/elementwise.js";
import { layerNorm } from "../tensor/ops/norm.js";
import { concat, permute, slice } from "../tensor/ops/movement.js";
import { softmax } from "../tensor/ops/softmax.js";
import { ShapeError, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { type LayerOps, floatLayers } from "./layers.js";
import { type Classifier, type ForwardOptions, type ForwardResult, type NormLayerInfo, normAffine } from "./model.js";
import type { ParamMap } from "./params.js";
import { perSampleAffine } from "./per_sample_affine.js";

export interface ViTConfig {
  imgSize: number;
  patchSize: number;
  inChans: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  numClasses: number;
  /** LayerNorm eps (timm: 1e-6). */
  eps: number;
}

/** timm presets (ImageNet, 224x224). */
export const VIT_PRESETS = {
  vit_tiny_patch16_224: { imgSize: 224, patchSize: 16, inChans: 3, embedDim: 192, depth: 12, numHeads: 3, mlpRatio: 4, numClasses: 1000, eps: 1e-6 },
  vit_small_patch16_224: { imgSize: 224, patchSize: 16, inChans: 3, embedDim: 384, depth: 12, numHeads: 6, mlpRatio: 4, numClasses: 1000, eps: 1e-6 },
  vit_base_patch16_224: { imgSize: 224, patchSize: 16, inChans: 3, embedDim: 768, depth: 12, numHeads: 12, mlpRatio: 4, numClasses: 1000, eps: 1e-6 },
} as const satisfies Record<string, ViTConfig>;

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Every tensor name and shape a ViT of this config needs (the single source for loading and init). */
export function vitParamSpec(c: ViTConfig): [string, number[]][] {
  const D = c.embedDim;
  const hidden = Math.round(D * c.mlpRatio);
  const tokens = (c.imgSize / c.patchSize) ** 2 + 1;
  const spec: [string, number[]][] = [
    ["patch_embed.proj.weight", [D, c.inChans, c.patchSize, c.patchSize]],
    ["patch_embed.proj.bias", [D]],
    ["cls_token", [1, 1, D]],
    ["pos_embed", [1, tokens, D]],
  ];
  for (let i = 0; i < c.depth; i++) {
    const p = `blocks.${i}`;
    spec.push(
      [`${p}.norm1.weight`, [D]], [`${p}.norm1.bias`, [D]],
      [`${p}.attn.qkv.weight`, [3 * D, D]], [`${p}.attn.qkv.bias`, [3 * D]],
      [`${p}.attn.proj.weight`, [D, D]], [`${p}.attn.proj.bias`, [D]],
      [`${p}.norm2.weight`, [D]], [`${p}.norm2.bias`, [D]],
      [`${p}.mlp.fc1.weight`, [hidden, D]], [`${p}.mlp.fc1.bias`, [hidden]],
      [`${p}.mlp.fc2.weight`, [D, hidden]], [`${p}.mlp.fc2.bias`, [D]],
    );
  }
  spec.push(["norm.weight", [D]], ["norm.bias", [D]], ["head.weight", [c.numClasses, D]], ["head.bias", [c.numClasses]]);
  return spec;
}

export class VisionTransformer implements Classifier {
  readonly kind = "vit" as const;
  readonly numClasses: number;
  readonly imageSize: number;
  readonly normLayers: NormLayerInfo[];
  readonly weightLayers: string[];
  readonly matmulLayers: string[];
  readonly headName = "head";

  constructor(
    readonly config: ViTConfig,
    readonly params: ParamMap,
    readonly mean: readonly number[] = IMAGENET_MEAN,
    readonly std: readonly number[] = IMAGENET_STD,
    readonly name = "vit",
  ) {
    if (config.embedDim % config.numHeads !== 0) throw new ShapeError("vit", `embedDim ${config.embedDim} not divisible by numHeads ${config.numHeads}`);
    if (config.imgSize % config.patchSize !== 0) throw new ShapeError("vit", `imgSize ${config.imgSize} not divisible by patchSize ${config.patchSize}`);
    for (const [n, s] of vitParamSpec(config)) params.get(n, s);
    this.numClasses = config.numClasses;
    this.imageSize = config.imgSize;
    const D = config.embedDim;
    this.normLayers = [];
    this.weightLayers = ["patch_embed.proj"];
    this.matmulLayers = [];
    for (let i = 0; i < config.depth; i++) {
      const p = `blocks.${i}`;
      this.normLayers.push({ name: `${p}.norm1`, kind: "layernorm", channels: D }, { name: `${p}.norm2`, kind: "layernorm", channels: D });
      this.weightLayers.push(`${p}.attn.qkv`, `${p}.attn.proj`, `${p}.mlp.fc1`, `${p}.mlp.fc2`);
      this.matmulLayers.push(`${p}.attn.qk`, `${p}.attn.av`);
    }
    this.normLayers.push({ name: "norm", kind: "layernorm", channels: D });
    this.weightLayers.push("head");
  }

  private ln(name: string, x: Tensor, opts: ForwardOptions): Tensor {
    const perSample = opts.normPerSample?.get(name);
    if (perSample) return perSampleAffine(layerNorm(x, null, null, this.config.eps), perSample.weight, perSample.bias, "last");
    const { weight, bias } = normAffine(this.params, name, opts);
    return layerNorm(x, weight, bias, this.config.eps);
  }

  /** Multi-head self-attention of block i. x: [N, T, D] -> [N, T, D]. */
  private attention(i: number, x: Tensor, layers: LayerOps): Tensor {
    const [N, T, D] = x.shape;
    const H = this.config.numHeads;
    const d = D / H;
    const p = `blocks.${i}.attn`;
    const qkv = layers.linear(`${p}.qkv`, x, this.params.get(`${p}.qkv.weight`), this.params.get(`${p}.qkv.bias`)); // [N, T, 3D]
    const heads = permute(qkv.reshape([N, T, 3, H, d]), [2, 0, 3, 1, 4]); // [3, N, H, T, d]
    const q = slice(heads, [{ start: 0, end: 1 }]).reshape([N, H, T, d]);
    const k = slice(heads, [{ start: 1, end: 2 }]).reshape([N, H, T, d]);
    const v = slice(heads, [{ start: 2, end: 3 }]).reshape([N, H, T, d]);
    const scores = mul(layers.matmul(`${p}.qk`, q, k, { transposeB: true }), d ** -0.5); // [N, H, T, T]
    const attn = softmax(scores, -1);
    const ctx = layers.matmul(`${p}.av`, attn, v, {}); // [N, H, T, d]
    const merged = permute(ctx, [0, 2, 1, 3]).reshape([N, T, D]);
    return layers.linear(`${p}.proj`, merged, this.params.get(`${p}.proj.weight`), this.params.get(`${p}.proj.bias`));
  }

  private mlp(i: number, x: Tensor, layers: LayerOps): Tensor {
    const p = `blocks.${i}.mlp`;
    const h = gelu(layers.linear(`${p}.fc1`, x, this.params.get(`${p}.fc1.weight`), this.params.get(`${p}.fc1.bias`)));
    return layers.linear(`${p}.fc2`, h, this.params.get(`${p}.fc2.weight`), this.params.get(`${p}.fc2.bias`));
  }

  headLogits(final: Tensor, layers: LayerOps = floatLayers): Tensor {
    return layers.linear("head", final, this.params.get("head.weight"), this.params.get("head.bias"));
  }

  /** x: [N, C, imgSize, imgSize] normalised images -> logits [N, classes] and features. */
  forward(x: Tensor, opts: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    if (x.rank !== 4 || x.shape[1] !== c.inChans || x.shape[2] !== c.imgSize || x.shape[3] !== c.imgSize) {
      throw new ShapeError("vit.forward", `expected input [N, ${c.inChans}, ${c.imgSize}, ${c.imgSize}], got ${shapeStr(x.shape)}`);
    }
    const layers = opts.layers ?? floatLayers;
    const N = x.shape[0];
    const D = c.embedDim;
    const P = (c.imgSize / c.patchSize) ** 2;
    // Patch embedding: conv with kernel = stride = patch -> [N, D, h, w] -> [N, P, D].
    const pe = layers.conv2d("patch_embed.proj", x, this.params.get("patch_embed.proj.weight"), this.params.get("patch_embed.proj.bias"), {
      stride: c.patchSize,
    });
    const patches = permute(pe.reshape([N, D, P]), [0, 2, 1]);
    const cls = Tensor.from([N, 1, D], repeat(this.params.get("cls_token").data, N));
    const pos = this.params.get("pos_embed");
    let tokens = add(concat([cls, patches], 1), pos); // [N, 1+P, D]
    const embed = slice(tokens, [null, { start: 1 }]); // patch tokens after pos_embed, [N, P, D]
    if (opts.promptTokens) {
      const pt = opts.promptTokens;
      if (pt.rank !== 2 || pt.shape[1] !== D) throw new ShapeError("vit.forward", `promptTokens must be [P, ${D}], got ${shapeStr(pt.shape)}`);
      const prompts = Tensor.from([N, pt.shape[0], D], repeat(pt.data, N));
      tokens = concat([slice(tokens, [null, { end: 1 }]), prompts, embed], 1);
    }
    const clsFeatures: Tensor[] = [];
    let final = tokens;
    for (let i = 0; i < c.depth; i++) {
      const h = this.ln(`blocks.${i}.norm1`, tokens, opts);
      // The class token of the previous block's output through this block's norm1 is that block's feature.
      if (i > 0) clsFeatures.push(classToken(h));
      tokens = add(tokens, this.attention(i, h, layers));
      tokens = add(tokens, this.mlp(i, this.ln(`blocks.${i}.norm2`, tokens, opts), layers));
    }
    final = classToken(this.ln("norm", tokens, opts)); // [N, D]
    clsFeatures.push(final);
    const stages = [stack(clsFeatures)]; // [N, depth, D]
    const head = (f: Tensor) => this.headLogits(f, layers);
    const logits = head(final);
    const shiftedLogits = opts.featureShift ? head(add(final, opts.featureShift)) : undefined;
    return { logits, shiftedLogits, features: { embed, stages, final } };
  }
}

function classToken(x: Tensor): Tensor {
  const [N, , D] = x.shape;
  return slice(x, [null, { start: 0, end: 1 }]).reshape([N, D]);
}

/** [N, D] x depth -> [N, depth, D]. */
function stack(xs: Tensor[]): Tensor {
  const [N, D] = xs[0].shape;
  return concat(xs.map((t) => t.reshape([N, 1, D])), 1);
}

function repeat(src: Float32Array, times: number): Float32Array {
  const out = new Float32Array(src.length * times);
  for (let i = 0; i < times; i++) out.set(src, i * src.length);
  return out;
}
