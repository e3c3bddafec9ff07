// ResNets: the CIFAR variant (He et al. 2016 sec. 4.2; akamaster/pytorch_resnet_cifar10 names, option-A
// shortcuts, depth 6n+2) and torchvision's ImageNet ResNet-18/34/50/101 (downsample conv + BN shortcuts).
// CIFAR:       conv1 3x3/16 -> bn1 -> relu -> layer1..3 (16, 32, 64; stride 1, 2, 2) -> avg pool -> linear
// torchvision: conv1 7x7/64 s2 -> bn1 -> relu -> maxpool 3 s2 -> layer1..4 (64..512) -> avg pool -> fc
import { relu } from "../tensor/ops/elementwise.js";
import { flatten } from "../tensor/ops/movement.js";
import { globalAvgPool2d, maxPool2d } from "../tensor/ops/pool.js";
import { ShapeError, shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { type LayerOps, floatLayers } from "./layers.js";
import { type Classifier, type ForwardOptions, type ForwardResult, type NormLayerInfo } from "./model.js";
import { ModelError, type ParamMap } from "./params.js";
import { type BlockSpec, type RunContext, blockConvs, blockNorms, blockParamSpec, bnLayer, convLayer, runBlock } from "./resnet_blocks.js";
import { add } from "../tensor/ops/elementwise.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "./vit.js";

export interface ResNetConfig {
  variant: "cifar" | "imagenet";
  block: "basic" | "bottleneck";
  /** Blocks per stage. */
  layers: number[];
  /** Stage widths (planes). */
  widths: number[];
  numClasses: number;
  imageSize: number;
}

export function cifarResNetConfig(depth: number, numClasses = 10, imageSize = 32): ResNetConfig {
  if ((depth - 2) % 6 !== 0 || depth < 8) throw new ModelError(`CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56, 110), got ${depth}`);
  const n = (depth - 2) / 6;
  return { variant: "cifar", block: "basic", layers: [n, n, n], widths: [16, 32, 64], numClasses, imageSize };
}

export const TORCHVISION_RESNETS = {
  resnet18: { block: "basic", layers: [2, 2, 2, 2] },
  resnet34: { block: "basic", layers: [3, 4, 6, 3] },
  resnet50: { block: "bottleneck", layers: [3, 4, 6, 3] },
  resnet101: { block: "bottleneck", layers: [3, 4, 23, 3] },
} as const;

export function torchvisionResNetConfig(name: keyof typeof TORCHVISION_RESNETS, numClasses = 1000, imageSize = 224): ResNetConfig {
  const p = TORCHVISION_RESNETS[name];
  return { variant: "imagenet", block: p.block, layers: [...p.layers], widths: [64, 128, 256, 512], numClasses, imageSize };
}

/** The block list of a config (names, planes, strides, shortcut kinds). */
export function resnetBlocks(c: ResNetConfig): BlockSpec[][] {
  const expansion = c.block === "bottleneck" ? 4 : 1;
  let inPlanes = c.variant === "cifar" ? 16 : 64;
  return c.layers.map((n, s) =>
    Array.from({ length: n }, (_, i) => {
      const planes = c.widths[s];
      const stride = i === 0 && s > 0 ? 2 : 1;
      const outPlanes = planes * expansion;
      const needs = stride !== 1 || inPlanes !== outPlanes;
      const b: BlockSpec = {
        name: `layer${s + 1}.${i}`,
        type: c.block,
        inPlanes,
        planes,
        stride,
        shortcut: needs ? (c.variant === "cifar" ? "optionA" : "conv") : "identity",
      };
      inPlanes = outPlanes;
      return b;
    }),
  );
}

export function resnetParamSpec(c: ResNetConfig): [string, number[]][] {
  const stemOut = c.variant === "cifar" ? 16 : 64;
  const k = c.variant === "cifar" ? 3 : 7;
  const bn = (n: string, ch: number): [string, number[]][] => ["weight", "bias", "running_mean", "running_var"].map((s) => [`${n}.${s}`, [ch]]);
  const spec: [string, number[]][] = [["conv1.weight", [stemOut, 3, k, k]], ...bn("bn1", stemOut)];
  for (const stage of resnetBlocks(c)) for (const b of stage) spec.push(...blockParamSpec(b));
  const feat = c.widths[c.widths.length - 1] * (c.block === "bottleneck" ? 4 : 1);
  const head = c.variant === "cifar" ? "linear" : "fc";
  spec.push([`${head}.weight`, [c.numClasses, feat]], [`${head}.bias`, [c.numClasses]]);
  return spec;
}

export class ResNet implements Classifier {
  readonly kind: "cifar_resnet" | "resnet";
  readonly numClasses: number;
  readonly imageSize: number;
  readonly normLayers: NormLayerInfo[];
  readonly weightLayers: string[];
  readonly matmulLayers: string[] = [];
  readonly headName: string;
  readonly blocks: BlockSpec[][];

  constructor(
    readonly config: ResNetConfig,
    readonly params: ParamMap,
    readonly mean: readonly number[] = IMAGENET_MEAN,
    readonly std: readonly number[] = IMAGENET_STD,
    readonly name = "resnet",
  ) {
    for (const [n, s] of resnetParamSpec(config)) params.get(n, s);
    this.kind = config.variant === "cifar" ? "cifar_resnet" : "resnet";
    this.numClasses = config.numClasses;
    this.imageSize = config.imageSize;
    this.headName = config.variant === "cifar" ? "linear" : "fc";
    this.blocks = resnetBlocks(config);
    const stemC = config.variant === "cifar" ? 16 : 64;
    this.normLayers = [{ name: "bn1", kind: "batchnorm", channels: stemC }, ...this.blocks.flat().flatMap(blockNorms)];
    this.weightLayers = ["conv1", ...this.blocks.flat().flatMap(blockConvs), this.headName];
  }

  headLogits(final: Tensor, layers: LayerOps = floatLayers): Tensor {
    return layers.linear(this.headName, final, this.params.get(`${this.headName}.weight`), this.params.get(`${this.headName}.bias`));
  }

  /** x: [N, 3, H, W] normalised images -> logits [N, classes] and features. */
  forward(x: Tensor, opts: ForwardOptions = {}): ForwardResult {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new ShapeError(`${this.name}.forward`, `expected input [N, 3, H, W], got ${shapeStr(x.shape)}`);
    const whole = opts.layers?.network?.(this, x, opts);
    if (whole) return whole;
    const ctx: RunContext = { params: this.params, layers: opts.layers ?? floatLayers, opts };
    const cifar = this.config.variant === "cifar";
    const embed = convLayer(ctx, "conv1", x, cifar ? 1 : 2, cifar ? 1 : 3); // stem-conv output
    let h = relu(bnLayer(ctx, "bn1", embed));
    if (!cifar) h = maxPool2d(h, 3, { stride: 2, padding: 1 });
    const stages: Tensor[] = [];
    for (const stage of this.blocks) {
      for (const b of stage) h = runBlock(ctx, b, h);
      stages.push(globalAvgPool2d(h));
    }
    const final = flatten(stages[stages.length - 1], 1);
    const head = (f: Tensor) => this.headLogits(f, ctx.layers);
    const logits = head(final);
    const shiftedLogits = opts.featureShift ? head(add(final, opts.featureShift)) : undefined;
    return { logits, shiftedLogits, features: { embed, stages, final } };
  }
}
