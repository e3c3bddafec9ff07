// Activation quantizers used by the model-level pass: a uniform (affine) quantizer per tensor, or a PTQ4ViT
// twin-uniform quantizer (post-softmax / post-GELU). One type so layers can hold either.
import { Tensor } from "../tensor/tensor.js";
import { type QParams, fakeQuantize } from "./qtensor.js";
import { TwinUniformQuantizer } from "./twin_uniform.js";

export type ActQuantizer = { kind: "uniform"; params: QParams } | { kind: "twin"; twin: TwinUniformQuantizer };

/** dequantize(quantize(x)) with the activation quantizer, in float32. */
export function fakeQuantAct(q: ActQuantizer, x: Tensor): Tensor {
  switch (q.kind) {
    case "uniform":
      return fakeQuantize(x, q.params);
    case "twin":
      return new Tensor(x.shape, q.twin.fakeQuantize(x.data));
    default:
      return q satisfies never;
  }
}

export function actBits(q: ActQuantizer): number {
  return q.kind === "uniform" ? q.params.bits : q.twin.bits;
}

/** A short human-readable description, e.g. "u8 [0, 3.21]" or "twin-softmax k=8 m=4". */
export function describeAct(q: ActQuantizer): string {
  if (q.kind === "twin") return `twin-${q.twin.kind} k=${q.twin.bits} m=${q.twin.m}`;
  const p = q.params;
  const { scale, zeroPoint } = { scale: p.scale[0], zeroPoint: p.zeroPoint[0] };
  const qmax = p.signed ? 2 ** (p.bits - 1) - 1 : 2 ** p.bits - 1;
  const qmin = p.signed ? -(2 ** (p.bits - 1)) : 0;
  return `${p.signed ? "s" : "u"}${p.bits} [${(scale * (qmin - zeroPoint)).toPrecision(3)}, ${(scale * (qmax - zeroPoint)).toPrecision(3)}]`;
}
