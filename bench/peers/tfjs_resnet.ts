// The BN-folded CIFAR ResNet in tf.js ops, NHWC: fused conv2d (+ bias, + ReLU) per conv, option-A shortcut as
// a strided slice plus channel zero-padding, global average pooling and a fused matMul head. Weights are
// uploaded once per backend; `run` takes normalised NHWC images and returns the logits [N, classes].
import type { FoldedConv, FoldedResNet } from "./resnet_folded.js";
import { type Tf, oihwToHwio } from "./tfjs.js";

type Tensor4D = import("@tensorflow/tfjs-core").Tensor4D;
type Tensor1D = import("@tensorflow/tfjs-core").Tensor1D;
type Tensor2D = import("@tensorflow/tfjs-core").Tensor2D;
type Tensor = import("@tensorflow/tfjs-core").Tensor;

interface TfConv {
  filter: Tensor4D;
  bias: Tensor1D;
  stride: number;
  pad: number;
}

export interface TfjsResNet {
  /** x: normalised images [N, S, S, 3] (NHWC) -> logits [N, classes], read back to the host. */
  run(x: Float32Array, batch: number): Float32Array;
  dispose(): void;
}

/** Builds the network on the active tfjs backend (call after `use(backend)`). */
export function tfjsResNet(tf: Tf, net: FoldedResNet): TfjsResNet {
  const held: { dispose(): void }[] = [];
  const upload = (c: FoldedConv): TfConv => {
    const filter = tf.tensor4d(oihwToHwio(c.weight, c.K, c.C, c.k, c.k), [c.k, c.k, c.C, c.K]);
    const bias = tf.tensor1d(c.bias);
    held.push(filter, bias);
    return { filter, bias, stride: c.stride, pad: c.pad };
  };
  const stem = upload(net.stem);
  const blocks = net.blocks.map((b) => ({ conv1: upload(b.conv1), conv2: upload(b.conv2), shortcut: b.shortcut }));
  // head: feat [N, D] x W^T [D, classes] + b
  const fcT = new Float32Array(net.fcWeight.length);
  for (let o = 0; o < net.classes; o++) for (let d = 0; d < net.features; d++) fcT[d * net.classes + o] = net.fcWeight[o * net.features + d];
  const fcW: Tensor2D = tf.tensor2d(fcT, [net.features, net.classes]);
  const fcB: Tensor1D = tf.tensor1d(net.fcBias);
  held.push(fcW, fcB);

  const conv = (x: Tensor4D, c: TfConv, relu: boolean): Tensor4D =>
    tf.fused.conv2d({ x, filter: c.filter, strides: c.stride, pad: c.pad, bias: c.bias, activation: relu ? "relu" : "linear" });

  const forward = (x: Tensor4D): Tensor => {
    let h = conv(x, stem, true);
    for (const b of blocks) {
      const y = conv(conv(h, b.conv1, true), b.conv2, false);
      const { stride, before, after } = b.shortcut;
      let sc: Tensor4D = h;
      if (stride !== 1) {
        const [n, hh, ww, cc] = h.shape;
        sc = tf.stridedSlice(h, [0, 0, 0, 0], [n, hh, ww, cc], [1, stride, stride, 1]) as Tensor4D;
      }
      if (before + after > 0) sc = tf.pad(sc, [[0, 0], [0, 0], [0, 0], [before, after]]);
      h = tf.relu(tf.add<Tensor4D>(y, sc));
    }
    const feat = tf.mean(h, [1, 2]) as Tensor2D;
    return tf.fused.matMul({ a: feat, b: fcW, bias: fcB });
  };

  return {
    run(x, batch) {
      const S = net.imageSize;
      const logits = tf.tidy(() => forward(tf.tensor4d(x, [batch, S, S, 3])));
      const out = logits.dataSync() as Float32Array;
      logits.dispose();
      return out;
    },
    dispose() {
      for (const t of held) t.dispose();
    },
  };
}
