// Integer execution of a QuantizedModel, layer by layer, bit for bit against an oracle built from the reference
// kernels and the documented formulas: codes = quantize(x) (twin-uniform inputs: split into their R1 / R2 code
// sets), acc = qconv2dNaive / qgemmNaive / qbmmNaive, y = sum over parts of float32(acc * float32(sA * sW[c]))
// summed into a zeroed float32 buffer, plus the float bias after the sum for twin inputs.
import { describe, it } from "vitest";
import type { LayerOps } from "../../src/models/layers.js";
import type { Classifier } from "../../src/models/model.js";
import type { ActQuantizer } from "../../src/quant/act.js";
import { qconv2dNaive } from "../../src/quant/kernels/cpu/qconv2d.js";
import { qbmmNaive, qgemmNaive } from "../../src/quant/kernels/cpu/qgemm.js";
import { calibrateModel, quantConfig } from "../../src/quant/ptq.js";
import { QuantizedModel } from "../../src/quant/qmodel.js";
import { quantize } from "../../src/quant/qtensor.js";
import { roundHalfAwayFromZero } from "../../src/quant/rounding.js";
import { pair } from "../../src/tensor/ops/conv.js";
import { Tensor } from "../../src/tensor/index.js";
import { detInput } from "../helpers/detweights.js";
import { tinyResNet, tinyViT } from "../helpers/tiny_models.js";
import { expectBitExact } from "./oracle.js";

interface Part {
  codes: Uint8Array | Int8Array;
  zeroPoint: number;
  scale: number;
}

function parts(q: ActQuantizer, x: Tensor): Part[] {
  if (q.kind === "uniform") return [{ codes: quantize(x, q.params).data, zeroPoint: q.params.zeroPoint[0], scale: q.params.scale[0] }];
  const tw = q.twin;
  const codes = tw.quantize(x.data);
  const r1 = Uint8Array.from(codes, (v) => (v & tw.levels ? 0 : v & (tw.levels - 1)));
  const r2 = Uint8Array.from(codes, (v) => (v & tw.levels ? v & (tw.levels - 1) : 0));
  return [
    { codes: r1, zeroPoint: 0, scale: (tw.kind === "gelu" ? -1 : 1) * tw.delta1 },
    { codes: r2, zeroPoint: 0, scale: tw.delta2 },
  ];
}

/** Zeroed float32 sum of float32(acc * float32(sA * sW[c])) over the parts; channel c = floor(i / inner) % C. */
function sumParts(accs: { acc: Int32Array; sA: number }[], sW: Float32Array, channels: number, inner: number): Float32Array {
  const out = new Float32Array(accs[0].acc.length);
  for (const { acc, sA } of accs) {
    for (let i = 0; i < acc.length; i++) {
      const s = Math.fround(sA * sW[sW.length === 1 ? 0 : Math.floor(i / inner) % channels]);
      out[i] += Math.fround(acc[i] * s);
    }
  }
  return out;
}

function biasCodes(bias: Float32Array, sA: number, sW: Float32Array): Int32Array {
  return Int32Array.from(bias, (b, c) => roundHalfAwayFromZero(b / (sA * sW[sW.length === 1 ? 0 : c])));
}

/** Runs the model on x with every integer layer checked against the oracle on its actual input. */
function checkLayers(model: Classifier, q: QuantizedModel, x: Tensor): number {
  let checked = 0;
  const probe: LayerOps = {
    conv2d: (n, xi, w, b, o) => {
      const got = q.integer.conv2d(n, xi, w, b, o);
      const l = q.weights.get(n)!;
      const [N, C, H, W] = xi.shape;
      const [K, Cg, kh, kw] = l.weight.shape;
      const ps = parts(l.input, xi);
      const one = ps.length === 1;
      const stride = pair("oracle", "stride", o.stride, 1);
      const padding = pair("oracle", "padding", o.padding, 0);
      const accs = ps.map((p) => ({
        sA: p.scale,
        acc: qconv2dNaive(p.codes, l.weight.data, l.bias && one ? biasCodes(l.bias.data, p.scale, l.weight.scale) : null, {
          inputShape: [N, C, H, W],
          weightShape: [K, Cg, kh, kw],
          stride,
          padding,
          dilation: pair("oracle", "dilation", o.dilation, 1),
          groups: o.groups ?? 1,
          xZeroPoint: p.zeroPoint,
          wZeroPoint: l.weight.zeroPoint,
        }),
      }));
      const want = sumParts(accs, l.weight.scale, K, got.shape[2] * got.shape[3]);
      if (l.bias && !one) for (let i = 0; i < want.length; i++) want[i] += l.bias.data[Math.floor(i / (got.shape[2] * got.shape[3])) % K];
      expectBitExact(got.data, want, `${n} (conv, ${ps.length} part(s))`);
      checked++;
      return q.simulated.conv2d(n, xi, w, b, o);
    },
    linear: (n, xi, w, b) => {
      const got = q.integer.linear(n, xi, w, b);
      const l = q.weights.get(n)!;
      const [Nout, Kin] = l.weight.shape;
      const M = xi.size / Kin;
      const ps = parts(l.input, xi.reshape([M, Kin]));
      const one = ps.length === 1;
      const accs = ps.map((p) => ({
        sA: p.scale,
        acc: qgemmNaive(p.codes, l.weight.data, l.bias && one ? biasCodes(l.bias.data, p.scale, l.weight.scale) : null, {
          m: M,
          n: Nout,
          k: Kin,
          transposeB: true,
          aZeroPoint: p.zeroPoint,
          bZeroPoint: l.weight.zeroPoint,
        }),
      }));
      const want = sumParts(accs, l.weight.scale, Nout, 1);
      if (l.bias && !one) for (let i = 0; i < want.length; i++) want[i] += l.bias.data[i % Nout];
      expectBitExact(got.data, want, `${n} (linear, ${ps.length} part(s))`);
      checked++;
      return q.simulated.linear(n, xi, w, b);
    },
    matmul: (n, a, bt, o) => {
      const got = q.integer.matmul(n, a, bt, o);
      const l = q.matmuls.get(n)!;
      const r = a.rank;
      const [M, K] = [a.shape[r - 2], a.shape[r - 1]];
      const transposeB = o.transposeB ?? false;
      const N = transposeB ? bt.shape[r - 2] : bt.shape[r - 1];
      const batch = a.size / (M * K);
      const bp = parts(l.b, bt)[0];
      const accs = parts(l.a, a).map((p) => ({
        sA: p.scale,
        acc: qbmmNaive(p.codes, bp.codes, { batch, m: M, n: N, k: K, transposeB, aZeroPoint: p.zeroPoint, bZeroPoint: Int32Array.of(bp.zeroPoint) }),
      }));
      expectBitExact(got.data, sumParts(accs, Float32Array.of(bp.scale), 1, 1), `${n} (matmul, ${accs.length} part(s))`);
      checked++;
      return q.simulated.matmul(n, a, bt, o);
    },
  };
  model.forward(x, { layers: probe });
  return checked;
}

const calib = new Tensor([8, 3, 16, 16], detInput([8, 3, 16, 16]));
const test = new Tensor([4, 3, 16, 16], detInput([4, 3, 16, 16]).map((v, i) => v * 0.9 + Math.sin(i) * 0.1));

describe("integer execution equals the reference-kernel oracle bit for bit", () => {
  it.each(["w8a8", "w6a6"] as const)("tiny CIFAR ResNet %s (uniform inputs: convs and the head)", (preset) => {
    const model = tinyResNet();
    const cfg = quantConfig(preset);
    const q = new QuantizedModel(model, cfg, calibrateModel(model, calib, cfg));
    const n = checkLayers(model, q, test);
    if (n !== model.weightLayers.length) throw new Error(`checked ${n} of ${model.weightLayers.length} layers`);
  });

  it("tiny ViT w8a8 with twin-uniform post-softmax / post-GELU inputs (two-part sums)", () => {
    const model = tinyViT();
    const cfg = quantConfig("w8a8", { method: "search", searchImages: 2, alphas: [0.5, 1] });
    const q = new QuantizedModel(model, cfg, calibrateModel(model, calib, cfg));
    const twins = [...q.weights.values()].filter((l) => l.input.kind === "twin").length + [...q.matmuls.values()].filter((l) => l.a.kind === "twin").length;
    if (twins === 0) throw new Error("expected twin-uniform inputs in the search config");
    const n = checkLayers(model, q, test);
    if (n !== model.weightLayers.length + model.matmulLayers.length) throw new Error(`checked ${n} layers`);
  });
});
