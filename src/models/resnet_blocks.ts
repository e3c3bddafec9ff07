// Residual blocks shared by the CIFAR and torchvision ResNets (He et al. 2016).
// BasicBlock:  y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convs, stride on conv1.
// Bottleneck:  y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)), 1x1-3x3-1x1,
//              stride on conv2 (torchvision v1.5), expansion 4.
import { add, relu } from "../tensor/ops/elementwise.js";
import { batchNorm, batchStats } from "../tensor/ops/norm.js";
import { pad, slice } from "../tensor/ops/movement.js";
import { Tensor } from "../tensor/tensor.js";
import type { LayerOps } from "./layers.js";
import { type BnMoments, type ForwardOptions, type NormLayerInfo, blendMoments, normAffine } from "./model.js";
import type { ParamMap } from "./params.js";
import { perSampleAffine } from "./per_sample_affine.js";

export type Shortcut = "identity" | "optionA" | "conv";

export interface BlockSpec {
  /** State-dict prefix, e.g. "layer2.0". */
  name: string;
  type: "basic" | "bottleneck";
  inPlanes: number;
  planes: number;
  stride: number;
  shortcut: Shortcut;
}

export const BN_EPS = 1e-5;

export interface RunContext {
  params: ParamMap;
  layers: LayerOps;
  opts: ForwardOptions;
}

/** conv (no bias) of layer `name`. */
export function convLayer(ctx: RunContext, name: string, x: Tensor, stride: number, padding: number): Tensor {
  return ctx.layers.conv2d(name, x, ctx.params.get(`${name}.weight`), ctx.params.maybe(`${name}.bias`), { stride, padding });
}

/** BatchNorm `name` with running or batch statistics and optional affine override. */
export function bnLayer(ctx: RunContext, name: string, x: Tensor): Tensor {
  const perSample = ctx.opts.normPerSample?.get(name);
  const { weight, bias } = perSample ? { weight: null, bias: null } : normAffine(ctx.params, name, ctx.opts);
  const useBatch = ctx.opts.bnStats === "batch";
  let stats = { runningMean: ctx.params.maybe(`${name}.running_mean`), runningVar: ctx.params.maybe(`${name}.running_var`) };
  let batch = useBatch;
  if (useBatch && (ctx.opts.bnPrior || ctx.opts.onBnStats)) {
    // the batch's moments, reported and optionally blended, then normalised with as given statistics
    const b = batchStats(x);
    const m: BnMoments = { mean: Float64Array.from(b.mean.data), variance: Float64Array.from(b.variance.data) };
    ctx.opts.onBnStats?.(name, m);
    const used = blendMoments(m, ctx.opts.bnPrior?.get(name));
    const C = m.mean.length;
    stats = { runningMean: new Tensor([C], Float32Array.from(used.mean)), runningVar: new Tensor([C], Float32Array.from(used.variance)) };
    batch = false;
  }
  const y = batchNorm(x, { weight, bias, ...stats, eps: BN_EPS }, batch);
  return perSample ? perSampleAffine(y, perSample.weight, perSample.bias, "first") : y;
}

/** Option A shortcut (CIFAR ResNet): x[:, :, ::2, ::2] (when strided) then zero channels planes/4 on each side. */
function optionA(x: Tensor, stride: number, inPlanes: number, planes: number): Tensor {
  const sub = stride === 1 ? x : slice(x, [null, null, { step: stride }, { step: stride }]);
  const extra = planes - inPlanes;
  const before = Math.floor(extra / 2);
  return pad(sub, [[0, 0], [before, extra - before], [0, 0], [0, 0]]);
}

export function runBlock(ctx: RunContext, b: BlockSpec, x: Tensor): Tensor {
  let out: Tensor;
  if (b.type === "basic") {
    out = relu(bnLayer(ctx, `${b.name}.bn1`, convLayer(ctx, `${b.name}.conv1`, x, b.stride, 1)));
    out = bnLayer(ctx, `${b.name}.bn2`, convLayer(ctx, `${b.name}.conv2`, out, 1, 1));
  } else {
    out = relu(bnLayer(ctx, `${b.name}.bn1`, convLayer(ctx, `${b.name}.conv1`, x, 1, 0)));
    out = relu(bnLayer(ctx, `${b.name}.bn2`, convLayer(ctx, `${b.name}.conv2`, out, b.stride, 1)));
    out = bnLayer(ctx, `${b.name}.bn3`, convLayer(ctx, `${b.name}.conv3`, out, 1, 0));
  }
  let sc: Tensor;
  switch (b.shortcut) {
    case "identity":
      sc = x;
      break;
    case "optionA":
      sc = optionA(x, b.stride, b.inPlanes, b.planes);
      break;
    case "conv":
      sc = bnLayer(ctx, `${b.name}.downsample.1`, convLayer(ctx, `${b.name}.downsample.0`, x, b.stride, 0));
      break;
    default:
      sc = b.shortcut satisfies never;
  }
  return relu(add(out, sc));
}

/** Tensor names and shapes a block needs. */
export function blockParamSpec(b: BlockSpec): [string, number[]][] {
  const bn = (n: string, c: number): [string, number[]][] =>
    ["weight", "bias", "running_mean", "running_var"].map((s) => [`${n}.${s}`, [c]]);
  const spec: [string, number[]][] = [];
  if (b.type === "basic") {
    spec.push([`${b.name}.conv1.weight`, [b.planes, b.inPlanes, 3, 3]], ...bn(`${b.name}.bn1`, b.planes));
    spec.push([`${b.name}.conv2.weight`, [b.planes, b.planes, 3, 3]], ...bn(`${b.name}.bn2`, b.planes));
  } else {
    spec.push([`${b.name}.conv1.weight`, [b.planes, b.inPlanes, 1, 1]], ...bn(`${b.name}.bn1`, b.planes));
    spec.push([`${b.name}.conv2.weight`, [b.planes, b.planes, 3, 3]], ...bn(`${b.name}.bn2`, b.planes));
    spec.push([`${b.name}.conv3.weight`, [b.planes * 4, b.planes, 1, 1]], ...bn(`${b.name}.bn3`, b.planes * 4));
  }
  if (b.shortcut === "conv") {
    const out = b.type === "basic" ? b.planes : b.planes * 4;
    spec.push([`${b.name}.downsample.0.weight`, [out, b.inPlanes, 1, 1]], ...bn(`${b.name}.downsample.1`, out));
  }
  return spec;
}

export function blockNorms(b: BlockSpec): NormLayerInfo[] {
  const out = b.type === "basic" ? b.planes : b.planes * 4;
  const list: NormLayerInfo[] =
    b.type === "basic"
      ? [
          { name: `${b.name}.bn1`, kind: "batchnorm", channels: b.planes },
          { name: `${b.name}.bn2`, kind: "batchnorm", channels: b.planes },
        ]
      : [
          { name: `${b.name}.bn1`, kind: "batchnorm", channels: b.planes },
          { name: `${b.name}.bn2`, kind: "batchnorm", channels: b.planes },
          { name: `${b.name}.bn3`, kind: "batchnorm", channels: out },
        ];
  if (b.shortcut === "conv") list.push({ name: `${b.name}.downsample.1`, kind: "batchnorm", channels: out });
  return list;
}

export function blockConvs(b: BlockSpec): string[] {
  const convs = b.type === "basic" ? [`${b.name}.conv1`, `${b.name}.conv2`] : [`${b.name}.conv1`, `${b.name}.conv2`, `${b.name}.conv3`];
  if (b.shortcut === "conv") convs.push(`${b.name}.downsample.0`);
  return convs;
}
