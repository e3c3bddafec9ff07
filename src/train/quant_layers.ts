// The simulated (fake-quant) execution of a QuantizedModel on Vars, with the straight-through estimator: the same
// quantizers at the same points as QuantizedModel.simulated (src/quant/qmodel.ts), so the forward values equal
// QuantizedModel.forward(x, {exec: "simulated"}) op for op:
//   conv / linear:  y = op(fq_in(x), fq_w(W), b_int32)   fq_in: the layer's activation quantizer (per tensor,
//                   uniform or twin-uniform); fq_w: per-output-channel weight grid; b_int32 = round(b / (sA sW[c]))
//                   * float32(sA sW[c]) (QuantizedModel.simulatedBias: the integer mode's bias, dequantized);
//   attention:      y = fq_a(a) @ fq_b(b)   (q k^T and attn v, each operand with its own quantizer).
// Norm layers, softmax, GELU and residual adds stay float, as in the quantized model.
// Gradients: d/dx through fq_in by the STE (src/train/grad_fakequant.ts). A weight that is a constant (TENT trains
// norm affines only) is the QuantizedModel's own dequantized weight tensor (no copy); a trainable weight goes
// through fakeQuant with the same per-channel grid (STE to the float weight). Biases are constants: a bias on the
// int32 grid has no trainable form here.
import { ModelError } from "../models/params.js";
import type { QuantWeightLayer } from "../quant/ptq.js";
import type { QuantizedModel } from "../quant/qmodel.js";
import { type Var, constant } from "./autograd.js";
import { conv2d } from "./grad_conv.js";
import { fakeQuant, fakeQuantActivation } from "./grad_fakequant.js";
import { linear, matmul } from "./grad_matmul.js";
import type { TrainLayerOps } from "./layer_ops.js";

/**
 * Var-level layer ops running `q`'s simulated mode (see the header).
 * @example const model: TrainModel = { arch, params, buffers: new Map(), layers: simulatedTrainLayers(q) }
 */
export function simulatedTrainLayers(q: QuantizedModel): TrainLayerOps {
  const weightLayer = (name: string): QuantWeightLayer => {
    const l = q.weights.get(name);
    if (!l) throw new ModelError(`simulatedTrainLayers: layer '${name}' was not quantized`);
    return l;
  };
  const weight = (l: QuantWeightLayer, w: Var): Var => (w.requiresGrad ? fakeQuant(w, l.weight) : constant(l.weightFake));
  const bias = (l: QuantWeightLayer, b: Var | null): Var | null => {
    if (b?.requiresGrad) throw new ModelError(`simulatedTrainLayers: bias of '${l.name}' is on the int32 grid and cannot be trained`);
    const t = q.simulatedBias(l);
    return t ? constant(t) : null;
  };
  return {
    conv2d: (name, x, w, b, opts) => {
      const l = weightLayer(name);
      return conv2d(fakeQuantActivation(x, l.input), weight(l, w), bias(l, b), opts);
    },
    linear: (name, x, w, b) => {
      const l = weightLayer(name);
      return linear(fakeQuantActivation(x, l.input), weight(l, w), bias(l, b));
    },
    matmul: (name, a, b, opts) => {
      const l = q.matmuls.get(name);
      if (!l) throw new ModelError(`simulatedTrainLayers: matmul '${name}' was not quantized`);
      return matmul(fakeQuantActivation(a, l.a), fakeQuantActivation(b, l.b), opts);
    },
  };
}
