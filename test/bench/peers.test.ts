// The bench peers compute what the engine computes: onnxruntime on the graphs encoded by bench/peers
// (GEMM, conv, the BN-folded CIFAR ResNet) and tfjs (wasm, cpu) on the folded ResNet, against the engine's
// reference backend (naive loops) in float64-free float32 with stated tolerances. Skips with a printed reason
// where a peer package cannot load.
import { describe, expect, it } from "vitest";
import { convModel, convOut, gemmModel, resnetModel } from "../../bench/peers/onnx_graphs.js";
import { loadOrt } from "../../bench/peers/ort.js";
import { foldCifarResNet } from "../../bench/peers/resnet_folded.js";
import { loadTfjs, nchwToNhwc } from "../../bench/peers/tfjs.js";
import { tfjsResNet } from "../../bench/peers/tfjs_resnet.js";
import { normalizeBatch } from "../../src/data/cifar.js";
import { referenceBackend, withBackend } from "../../src/tensor/backends.js";
import { conv2dNaive } from "../../src/tensor/kernels/cpu/conv.js";
import { Rng, Tensor } from "../../src/tensor/index.js";
import { expectClose } from "../helpers/close.js";
import { randomImages, tinyResNet } from "../helpers/tiny_models.js";

const ort = await loadOrt().catch((e: unknown) => {
  console.warn(`[skip] onnxruntime-node cannot load: ${(e as Error).message}`);
  return null;
});
const tfjs = await loadTfjs().catch((e: unknown) => {
  console.warn(`[skip] tfjs cannot load: ${(e as Error).message}`);
  return null;
});

function randn(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
}

// float32 sums of up to a few hundred products of values in [-1, 1], in a different order than the reference
const TOL_OP = { atol: 1e-4, rtol: 1e-5 };
// whole network (folded BN changes the rounding of every layer)
const TOL_NET = { atol: 1e-4, rtol: 1e-4 };

function tinyCase(): { logits: Float32Array; x: Tensor; net: ReturnType<typeof foldCifarResNet> } {
  const model = tinyResNet();
  const x = normalizeBatch(randomImages(4, 3), 0, 4, model.mean, model.std);
  const logits = withBackend(referenceBackend, () => model.forward(x).logits.data);
  return { logits, x, net: foldCifarResNet(model) };
}

describe.skipIf(!ort)("onnxruntime-node on the encoded graphs", () => {
  it("MatMul: c = a b against a naive loop", async () => {
    const [M, N, K] = [5, 7, 33];
    const rng = new Rng(1);
    const a = randn(M * K, rng);
    const b = randn(K * N, rng);
    const want = new Float32Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j] += a[i * K + k] * b[k * N + j];
    const s = await ort!.session(gemmModel(M, N, K, b), 1);
    s.bind("a", a, [M, K]);
    expectClose(await s.run(), want, TOL_OP, "ort MatMul");
    await s.release();
  });

  it("Conv 3x3 stride 2 pad 1 against conv2dNaive", async () => {
    const shape = { N: 2, C: 3, H: 9, K: 4, k: 3, stride: 2, pad: 1 };
    const rng = new Rng(2);
    const x = randn(shape.N * shape.C * shape.H * shape.H, rng);
    const w = randn(shape.K * shape.C * 9, rng);
    const OH = convOut(shape);
    const want = conv2dNaive(
      { x: new Tensor([2, 3, 9, 9], x), w: new Tensor([4, 3, 3, 3], w), bias: null },
      { stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1, outShape: [2, 4, OH, OH] },
    );
    const s = await ort!.session(convModel(shape, w), 2);
    s.bind("x", x, [2, 3, 9, 9]);
    expectClose(await s.run(), want.data, TOL_OP, "ort Conv");
    await s.release();
  });

  it("BN-folded CIFAR ResNet (option-A shortcuts via Slice + Pad) matches the engine's logits", async () => {
    const { logits, x, net } = tinyCase();
    const s = await ort!.session(resnetModel(net, 4), 1);
    s.bind("x", x.data, x.shape);
    expectClose(await s.run(), logits, TOL_NET, "ort ResNet logits");
    await s.release();
  });
});

describe.skipIf(!tfjs)("tfjs on the BN-folded CIFAR ResNet", () => {
  for (const backend of ["wasm", "cpu"] as const) {
    it(`${backend} backend matches the engine's logits`, async () => {
      if (tfjs!.available[backend] !== true) {
        console.warn(`[skip] tfjs-${backend}: ${tfjs!.available[backend]}`);
        return;
      }
      await tfjs!.use(backend);
      const { logits, x, net } = tinyCase();
      const r = tfjsResNet(tfjs!.tf, net);
      const out = r.run(nchwToNhwc(x.data, 4, 3, 16, 16), 4);
      r.dispose();
      expect(out.length).toBe(logits.length);
      expectClose(out, logits, TOL_NET, `tfjs-${backend} ResNet logits`);
    });
  }
});
