// Differentiable fake quantization y = dequantize(quantize(x)) with the straight-through estimator (STE, Bengio et
// al. 2013), in the clipped form PyTorch's fake_quantize_per_{tensor,channel}_affine use (their cachemask backward,
// aten/src/ATen/native/quantized/FakeQuantPerTensorAffine.cpp):
//   forward:  y = s[c] * (clamp(round(x / s[c]) + z[c], qmin, qmax) - z[c])       (round half to even, src/quant)
//   backward: dy/dx = 1  if qmin <= round(x / s[c]) + z[c] <= qmax                (inside the clipping range)
//                     0  otherwise (the code saturated), and for NaN inputs
// i.e. rounding is treated as the identity and clipping as a hard cutoff: PyTorch's mask
// (quant_min <= round(x * inv_scale) + zero_point <= quant_max), with x / s as src/quant's quantize computes it.
// c: the channel of x along params.axis (per channel), or 0 (per tensor). The forward calls the same src/quant
// functions QuantizedModel's simulated mode calls, so its values are bit-identical to that mode's.
// Twin-uniform quantizers (PTQ4ViT; src/quant/twin_uniform.ts), L = 2^(k-1) codes per range, j the unclamped code:
//   softmax: x < L d1 -> R1, passes iff round(x / d1) >= 0;  else R2, passes iff round(x / d2) <= L - 1
//   gelu:    x < 0    -> R1, passes iff round(-x / d1) <= L - 1;  else R2, passes iff round(x / d2) <= L - 1
// The softmax R1 code saturating at L - 1 just below the split L d1 lies inside the representable interval
// [0, (L-1) d2] (R2 takes over there), so it is treated as rounding and passes.
// The mask is recomputed from x in backward(): the tape keeps nothing beyond x, which it holds anyway.
import { type ActQuantizer, fakeQuantAct } from "../quant/act.js";
import { type QParams, fakeQuantize, rangeOf, validateQParams } from "../quant/qtensor.js";
import { roundHalfToEven } from "../quant/rounding.js";
import type { TwinUniformQuantizer } from "../quant/twin_uniform.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, record } from "./autograd.js";

/** 1 where the STE passes the gradient of fakeQuantize(x, params), else 0 (see the header). */
export function steMaskUniform(x: Tensor, params: QParams): Uint8Array {
  const { outer, channels, inner } = validateQParams("fakeQuant", params, x.shape);
  const { qmin, qmax } = rangeOf(params);
  const mask = new Uint8Array(x.size);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = params.scale[c];
      const z = params.zeroPoint[c];
      for (let j = 0; j < inner; j++, i++) {
        const v = x.data[i];
        if (v !== v) continue; // NaN: zero gradient
        const q = roundHalfToEven(v / s) + z;
        mask[i] = q >= qmin && q <= qmax ? 1 : 0;
      }
    }
  }
  return mask;
}

/** 1 where the STE passes the gradient of a twin-uniform quantizer, else 0 (see the header). */
export function steMaskTwin(x: Tensor, q: TwinUniformQuantizer): Uint8Array {
  const mask = new Uint8Array(x.size);
  const top = q.levels - 1;
  const split = q.levels * q.delta1;
  for (let i = 0; i < x.size; i++) {
    const v = x.data[i];
    if (v !== v) continue;
    let pass: boolean;
    if (q.kind === "softmax") pass = v < split ? roundHalfToEven(v / q.delta1) >= 0 : roundHalfToEven(v / q.delta2) <= top;
    else pass = v < 0 ? roundHalfToEven(-v / q.delta1) <= top : roundHalfToEven(v / q.delta2) <= top;
    mask[i] = pass ? 1 : 0;
  }
  return mask;
}

function masked(g: Tensor, mask: Uint8Array): Tensor {
  const dx = new Tensor(g.shape);
  for (let i = 0; i < dx.size; i++) dx.data[i] = mask[i] ? g.data[i] : 0;
  return dx;
}

/**
 * Fake quantization with an affine quantizer, per tensor (params.axis null) or per channel along params.axis.
 * @example fakeQuant(w, layer.weight) // per-output-channel weight grid of a QuantizedModel layer
 */
export function fakeQuant(x: Var, params: QParams): Var {
  const y = fakeQuantize(x.value, params);
  return record("fakeQuant", y, [x], (g) => [masked(g, steMaskUniform(x.value, params))]);
}

/**
 * Fake quantization with an activation quantizer of a QuantizedModel (uniform or twin-uniform), through the same
 * src/quant/act.ts function its simulated mode uses.
 * @example fakeQuantActivation(h, layer.input)
 */
export function fakeQuantActivation(x: Var, q: ActQuantizer): Var {
  const y = fakeQuantAct(q, x.value);
  return record("fakeQuant", y, [x], (g) => {
    switch (q.kind) {
      case "uniform":
        return [masked(g, steMaskUniform(x.value, q.params))];
      case "twin":
        return [masked(g, steMaskTwin(x.value, q.twin))];
      default:
        return q satisfies never;
    }
  });
}
