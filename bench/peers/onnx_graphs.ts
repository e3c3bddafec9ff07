// The ONNX graphs the bench hands onnxruntime: one GEMM, one conv, and a BN-folded CIFAR ResNet. Weights are
// initializers (constants), so onnxruntime may prepack them once, as it does for a deployed model. Shapes are
// fixed (no symbolic batch). Opset 17.
import type { FoldedConv, FoldedResNet } from "./resnet_folded.js";
import { type InitializerSpec, type NodeSpec, DataType, encodeModel, int64s } from "./onnx_proto.js";

const f32 = DataType.FLOAT;

/** c [M, N] = a [M, K] x b [K, N], b constant. Input "a", output "c". */
export function gemmModel(M: number, N: number, K: number, b: Float32Array): Uint8Array {
  return encodeModel({
    graph: {
      name: `gemm_${M}x${N}x${K}`,
      nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["c"] }],
      initializers: [{ name: "b", dims: [K, N], data: b }],
      inputs: [{ name: "a", elemType: f32, dims: [M, K] }],
      outputs: [{ name: "c", elemType: f32, dims: [M, N] }],
    },
  });
}

export interface ConvShape {
  N: number;
  C: number;
  H: number;
  K: number;
  k: number;
  stride: number;
  pad: number;
}

export function convOut(s: Pick<ConvShape, "H" | "k" | "stride" | "pad">): number {
  return Math.floor((s.H + 2 * s.pad - s.k) / s.stride) + 1;
}

function convNode(name: string, x: string, out: string, c: Pick<FoldedConv, "k" | "stride" | "pad">, withBias: boolean): NodeSpec {
  return {
    opType: "Conv",
    name,
    inputs: withBias ? [x, `${name}.w`, `${name}.b`] : [x, `${name}.w`],
    outputs: [out],
    attrs: [
      { name: "kernel_shape", ints: [c.k, c.k] },
      { name: "pads", ints: [c.pad, c.pad, c.pad, c.pad] },
      { name: "strides", ints: [c.stride, c.stride] },
    ],
  };
}

/** y [N, K, OH, OW] = conv(x [N, C, H, H], w [K, C, k, k]), no bias. Input "x", output "y". */
export function convModel(s: ConvShape, w: Float32Array): Uint8Array {
  const OH = convOut(s);
  return encodeModel({
    graph: {
      name: "conv",
      nodes: [convNode("conv", "x", "y", s, false)],
      initializers: [{ name: "conv.w", dims: [s.K, s.C, s.k, s.k], data: w }],
      inputs: [{ name: "x", elemType: f32, dims: [s.N, s.C, s.H, s.H] }],
      outputs: [{ name: "y", elemType: f32, dims: [s.N, s.K, OH, OH] }],
    },
  });
}

/** The folded CIFAR ResNet on a fixed batch: input "x" [batch, 3, S, S] normalised, output "logits" [batch, classes]. */
export function resnetModel(net: FoldedResNet, batch: number): Uint8Array {
  const nodes: NodeSpec[] = [];
  const inits: InitializerSpec[] = [];
  const conv = (name: string, x: string, c: FoldedConv, relu: boolean): string => {
    inits.push({ name: `${name}.w`, dims: [c.K, c.C, c.k, c.k], data: c.weight }, { name: `${name}.b`, dims: [c.K], data: c.bias });
    nodes.push(convNode(name, x, relu ? `${name}.pre` : name, c, true));
    if (relu) nodes.push({ opType: "Relu", inputs: [`${name}.pre`], outputs: [name] });
    return name;
  };
  let h = conv("stem", "x", net.stem, true);
  let size = net.imageSize;
  net.blocks.forEach((b, i) => {
    const name = `block${i}`;
    const y = conv(`${name}.conv2`, conv(`${name}.conv1`, h, b.conv1, true), b.conv2, false);
    let sc = h;
    const { stride, before, after } = b.shortcut;
    if (stride !== 1) {
      // x[:, :, ::s, ::s]: Slice(data, starts, ends, axes, steps) on axes 2, 3
      inits.push(
        { name: `${name}.sl.starts`, dims: [2], data: int64s([0, 0]) },
        { name: `${name}.sl.ends`, dims: [2], data: int64s([size, size]) },
        { name: `${name}.sl.axes`, dims: [2], data: int64s([2, 3]) },
        { name: `${name}.sl.steps`, dims: [2], data: int64s([stride, stride]) },
      );
      nodes.push({ opType: "Slice", inputs: [sc, `${name}.sl.starts`, `${name}.sl.ends`, `${name}.sl.axes`, `${name}.sl.steps`], outputs: [`${name}.sub`] });
      sc = `${name}.sub`;
      size = Math.ceil(size / stride);
    }
    if (before + after > 0) {
      // zero channels on both sides: pads = [x1_begin, ..., x4_begin, x1_end, ..., x4_end]
      inits.push({ name: `${name}.pads`, dims: [8], data: int64s([0, before, 0, 0, 0, after, 0, 0]) });
      nodes.push({ opType: "Pad", inputs: [sc, `${name}.pads`], outputs: [`${name}.padded`] });
      sc = `${name}.padded`;
    }
    nodes.push({ opType: "Add", inputs: [y, sc], outputs: [`${name}.sum`] }, { opType: "Relu", inputs: [`${name}.sum`], outputs: [name] });
    h = name;
  });
  inits.push({ name: "fc.w", dims: [net.classes, net.features], data: net.fcWeight }, { name: "fc.b", dims: [net.classes], data: net.fcBias });
  nodes.push(
    { opType: "GlobalAveragePool", inputs: [h], outputs: ["pool"] },
    { opType: "Flatten", inputs: ["pool"], outputs: ["feat"], attrs: [{ name: "axis", int: 1 }] },
    { opType: "Gemm", inputs: ["feat", "fc.w", "fc.b"], outputs: ["logits"], attrs: [{ name: "transB", int: 1 }] },
  );
  return encodeModel({
    graph: {
      name: "cifar_resnet_folded",
      nodes,
      initializers: inits,
      inputs: [{ name: "x", elemType: f32, dims: [batch, 3, net.imageSize, net.imageSize] }],
      outputs: [{ name: "logits", elemType: f32, dims: [batch, net.classes] }],
    },
  });
}
