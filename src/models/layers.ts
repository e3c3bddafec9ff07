// The pluggable execution of parameterised layers. Model code calls `layers.conv2d(name, ...)`,
// `layers.linear(name, ...)` and `layers.matmul(name, ...)` for every conv, linear and attention matmul;
// the float default runs the op, while src/quant supplies implementations that observe inputs
// (calibration), fake-quantize (simulated) or run integer kernels (integer), looked up by layer name.
import { type Conv2dOptions, conv2d } from "../tensor/ops/conv.js";
import { type MatmulOptions, linear, matmul } from "../tensor/ops/matmul.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Classifier, ForwardOptions, ForwardResult } from "./model.js";

export interface LayerOps {
  /** name: the conv's state-dict prefix, e.g. "layer2.0.conv1". */
  conv2d(name: string, x: Tensor, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions): Tensor;
  /** name: e.g. "blocks.3.mlp.fc1" or "head". */
  linear(name: string, x: Tensor, weight: Tensor, bias: Tensor | null): Tensor;
  /** Activation x activation products; name: "blocks.i.attn.qk" (q k^T) or "blocks.i.attn.av" (attn v). */
  matmul(name: string, a: Tensor, b: Tensor, opts: MatmulOptions): Tensor;
  /**
   * Optional whole-network execution (src/quant's fused integer ResNet pipeline): the forward result of `model` on
   * `x` with `opts`, or null where it does not apply, in which case the model runs layer by layer through the above.
   */
  network?(model: Classifier, x: Tensor, opts: ForwardOptions): ForwardResult | null;
}

export const floatLayers: LayerOps = {
  conv2d: (_name, x, w, b, opts) => conv2d(x, w, b, opts),
  linear: (_name, x, w, b) => linear(x, w, b),
  matmul: (_name, a, b, opts) => matmul(a, b, opts),
};
