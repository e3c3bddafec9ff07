// The pluggable execution of the trainable models' parameterised layers, the Var-level twin of
// src/models/layers.ts: src/train/models.ts calls `layers.conv2d(name, ...)`, `layers.linear(name, ...)` and
// `layers.matmul(name, ...)` under the same layer names as the inference models ("layer2.0.conv1", "linear",
// "blocks.3.attn.qk", ...). The float default runs the differentiable op; src/train/quant_layers.ts supplies the
// fake-quant (straight-through) execution of a QuantizedModel.
import { type Conv2dOptions, conv2d } from "./grad_conv.js";
import { linear, matmul } from "./grad_matmul.js";
import type { MatmulOptions } from "../tensor/ops/matmul.js";
import type { Var } from "./autograd.js";

export interface TrainLayerOps {
  conv2d(name: string, x: Var, weight: Var, bias: Var | null, opts: Conv2dOptions): Var;
  linear(name: string, x: Var, weight: Var, bias: Var | null): Var;
  /** Activation x activation products: "blocks.i.attn.qk" (q k^T) and "blocks.i.attn.av" (attn v). */
  matmul(name: string, a: Var, b: Var, opts: MatmulOptions): Var;
}

export const floatTrainLayers: TrainLayerOps = {
  conv2d: (_name, x, w, b, opts) => conv2d(x, w, b, opts),
  linear: (_name, x, w, b) => linear(x, w, b),
  matmul: (_name, a, b, opts) => matmul(a, b, opts),
};
