// Fake quantization with the straight-through estimator. Finite differences of a step function are meaningless,
// so the backward is checked against the STE rule written as a naive loop (own half-to-even rounding, channel
// index from the full multi-index), and the forward bit-exactly against src/quant's quantize -> dequantize and
// against the dequantized weights and activation quantizers a QuantizedModel uses in simulated mode.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeBatch } from "../../src/data/cifar.js";
import type { LayerOps } from "../../src/models/layers.js";
import type { Classifier } from "../../src/models/model.js";
import { type ActQuantizer, fakeQuantAct } from "../../src/quant/act.js";
import { calibrateModel, quantConfig } from "../../src/quant/ptq.js";
import { QuantizedModel } from "../../src/quant/qmodel.js";
import { type QParams, chooseQParamsPerChannel, dequantize, quantize } from "../../src/quant/qtensor.js";
import { TwinUniformQuantizer } from "../../src/quant/twin_uniform.js";
import { Rng } from "../../src/tensor/rng.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { backward, constant, param } from "../../src/train/autograd.js";
import { fakeQuant, fakeQuantActivation } from "../../src/train/grad_fakequant.js";
import { randomImages, tinyResNet, tinyViT } from "../helpers/tiny_models.js";

const RUNS = { numRuns: 40, seed: 20240801 };

/** Half-to-even rounding written independently of src/quant/rounding.ts. */
function roundEven(t: number): number {
  const f = Math.floor(t);
  const r = t - f;
  if (r > 0.5) return f + 1;
  if (r < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Channel of flat index i along `axis` of `shape`, from the full multi-index. */
function channelOf(i: number, shape: readonly number[], axis: number | null): number {
  if (axis === null) return 0;
  let rest = i;
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return idx[axis];
}

/** The STE gradient of a uniform fake-quant: g where qmin <= round(x/s) + z <= qmax, else 0 (NaN: 0). */
function steOracle(x: Tensor, g: Tensor, p: QParams): Float32Array {
  const qmin = p.signed ? -(2 ** (p.bits - 1)) + (p.narrow ? 1 : 0) : 0;
  const qmax = p.signed ? 2 ** (p.bits - 1) - 1 : 2 ** p.bits - 1;
  return Float32Array.from(x.data, (v, i) => {
    const c = channelOf(i, x.shape, p.axis);
    const q = roundEven(v / p.scale[c]) + p.zeroPoint[c];
    return Number.isNaN(v) || q < qmin || q > qmax ? 0 : g.data[i];
  });
}

function gradOf(x: Tensor, seed: Tensor, f: (v: ReturnType<typeof param>) => ReturnType<typeof param>): Tensor {
  const v = param(x.clone());
  backward(f(v), seed);
  return v.grad as Tensor;
}

const quantCase = fc
  .record({
    dims: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
    axisPick: fc.integer({ min: -1, max: 2 }),
    bits: fc.integer({ min: 2, max: 8 }),
    signed: fc.boolean(),
    symmetric: fc.boolean(),
    seed: fc.nat(),
  })
  .map(({ dims, axisPick, bits, signed, symmetric, seed }) => {
    const axis = axisPick < 0 || axisPick >= dims.length ? null : axisPick;
    const channels = axis === null ? 1 : dims[axis];
    const rng = new Rng(seed);
    const lo = Array.from({ length: channels }, () => -rng.uniformIn(0, 2));
    const hi = Array.from({ length: channels }, () => rng.uniformIn(0, 2));
    const p: QParams =
      axis === null
        ? { ...chooseQParamsPerChannel(lo, hi, 0, bits, signed, symmetric, { narrow: signed && symmetric }), axis: null }
        : chooseQParamsPerChannel(lo, hi, axis, bits, signed, symmetric, { narrow: signed && symmetric });
    // Values well beyond the range on both sides (saturated codes), plus NaN and exact zeros.
    const x = new Tensor(dims);
    for (let i = 0; i < x.size; i++) x.data[i] = rng.uniformIn(-4, 4);
    if (x.size > 2) {
      x.data[0] = Number.NaN;
      x.data[1] = 0;
    }
    const g = new Tensor(dims);
    for (let i = 0; i < g.size; i++) g.data[i] = rng.normal();
    return { p, x, g };
  });

describe("fakeQuant (uniform, per tensor and per channel)", () => {
  it("backward is the STE: the output gradient inside the clipping range, 0 where the code saturates", () => {
    fc.assert(
      fc.property(quantCase, ({ p, x, g }) => {
        const dx = gradOf(x, g, (v) => fakeQuant(v, p));
        expect(Array.from(dx.data)).toEqual(Array.from(steOracle(x, g, p)));
      }),
      RUNS,
    );
  });

  it("forward is bit-identical to dequantize(quantize(x))", () => {
    fc.assert(
      fc.property(quantCase, ({ p, x }) => {
        const y = fakeQuant(param(x.clone()), p).value;
        const ref = dequantize(quantize(x, p));
        expect(Array.from(y.data)).toEqual(Array.from(ref.data));
      }),
      RUNS,
    );
  });

  it("rounds ties to even before the range test (hand-computed: 2-bit unsigned, scale 0.5, zero point 1)", () => {
    // Codes 0..3 are the reals -0.5, 0, 0.5, 1.
    const p: QParams = { bits: 2, signed: false, narrow: false, scale: Float32Array.of(0.5), zeroPoint: Int32Array.of(1), axis: null };
    const x = Tensor.from([6], [1.25, 1.75, -0.25, -0.75, 1.24, 9]);
    // 1.25/0.5 = 2.5 -> 2 -> code 3 (in); 3.5 -> 4 -> 5 (out); -0.5 -> 0 -> 1 (in); -1.5 -> -2 -> -1 (out); 2.48 -> 2 -> 3 (in)
    const y = fakeQuant(param(x.clone()), p).value;
    expect(Array.from(y.data)).toEqual([1, 1, 0, -0.5, 1, 1]);
    const dx = gradOf(x, Tensor.full([6], 2), (v) => fakeQuant(v, p));
    expect(Array.from(dx.data)).toEqual([2, 0, 2, 0, 2, 0]);
  });

  it("records nothing for a constant input and rejects params that do not fit the shape", () => {
    const p = chooseQParamsPerChannel([-1, -1], [1, 1], 1, 8, true, true, { narrow: true });
    expect(fakeQuant(constant(Tensor.zeros([3, 2])), p).requiresGrad).toBe(false);
    expect(() => fakeQuant(param(Tensor.zeros([3, 4])), p)).toThrow(/fakeQuantize/);
  });
});

describe("fakeQuantActivation (twin uniform)", () => {
  /** Twin STE oracle: the unclamped magnitude code of the chosen range inside [0, L-1] (softmax R1: >= 0 only). */
  function twinOracle(x: Tensor, g: Tensor, q: TwinUniformQuantizer): Float32Array {
    const L = 2 ** (q.bits - 1);
    return Float32Array.from(x.data, (v, i) => {
      if (Number.isNaN(v)) return 0;
      let inside: boolean;
      if (q.kind === "softmax") inside = v < L * q.delta1 ? roundEven(v / q.delta1) >= 0 : roundEven(v / q.delta2) <= L - 1;
      else inside = v < 0 ? roundEven(-v / q.delta1) <= L - 1 : roundEven(v / q.delta2) <= L - 1;
      return inside ? g.data[i] : 0;
    });
  }

  const twinCase = fc
    .record({ kind: fc.constantFrom("softmax" as const, "gelu" as const), bits: fc.integer({ min: 2, max: 8 }), m: fc.integer({ min: 0, max: 6 }), seed: fc.nat() })
    .map(({ kind, bits, m, seed }) => {
      const rng = new Rng(seed);
      const q = kind === "softmax" ? TwinUniformQuantizer.softmax(bits, m) : TwinUniformQuantizer.gelu(bits, rng.uniformIn(0.01, 0.2), m);
      const x = new Tensor([5, 7]);
      for (let i = 0; i < x.size; i++) x.data[i] = kind === "softmax" ? rng.uniformIn(-0.2, 1.3) : rng.uniformIn(-1, 3);
      x.data[3] = Number.NaN;
      const g = new Tensor([5, 7]);
      for (let i = 0; i < g.size; i++) g.data[i] = rng.normal();
      return { act: { kind: "twin", twin: q } as ActQuantizer, q, x, g };
    });

  it("backward is the STE over the representable interval", () => {
    fc.assert(
      fc.property(twinCase, ({ act, q, x, g }) => {
        const dx = gradOf(x, g, (v) => fakeQuantActivation(v, act));
        expect(Array.from(dx.data)).toEqual(Array.from(twinOracle(x, g, q)));
      }),
      RUNS,
    );
  });

  it("forward is bit-identical to the quantizer's dequantize(quantize(x))", () => {
    fc.assert(
      fc.property(twinCase, ({ act, q, x }) => {
        const y = fakeQuantActivation(param(x.clone()), act).value;
        expect(Array.from(y.data)).toEqual(Array.from(q.dequantize(q.quantize(x.data))));
      }),
      RUNS,
    );
  });
});

describe("against a QuantizedModel's simulated mode", () => {
  const cases: [string, () => Classifier, boolean][] = [
    ["tiny ResNet W6A6", tinyResNet, false],
    ["tiny ViT W6A6, twin-uniform softmax / GELU", tinyViT, true],
  ];
  for (const [label, make, twinUniform] of cases) {
    it(`${label}: per-channel weights equal weightFake, activations equal the layer quantizers' outputs`, () => {
      const model = make();
      const cfg = quantConfig("w6a6", { twinUniform });
      const calib = normalizeBatch(randomImages(8, 3, 10), 0, 8, model.mean, model.std);
      const q = new QuantizedModel(model, cfg, calibrateModel(model, calib, cfg));
      for (const l of q.weights.values()) {
        expect(l.weight.axis).toBe(0);
        const w = fakeQuant(param(model.params.get(`${l.name}.weight`).clone()), l.weight).value;
        expect(Array.from(w.data), l.name).toEqual(Array.from(l.weightFake.data));
      }
      // Every quantizer input of a simulated forward, through the autograd op and through src/quant.
      const inputs: [ActQuantizer, Tensor][] = [];
      const spy: LayerOps = {
        conv2d: (name, x, w, b, opts) => (inputs.push([q.weights.get(name)!.input, x]), q.simulated.conv2d(name, x, w, b, opts)),
        linear: (name, x, w, b) => (inputs.push([q.weights.get(name)!.input, x]), q.simulated.linear(name, x, w, b)),
        matmul: (name, a, b, opts) => {
          inputs.push([q.matmuls.get(name)!.a, a], [q.matmuls.get(name)!.b, b]);
          return q.simulated.matmul(name, a, b, opts);
        },
      };
      model.forward(normalizeBatch(randomImages(4, 9, 40), 0, 4, model.mean, model.std), { layers: spy, bnStats: "batch" });
      expect(inputs.length).toBe(model.weightLayers.length + 2 * model.matmulLayers.length);
      if (twinUniform) expect(inputs.some(([a]) => a.kind === "twin")).toBe(true);
      for (const [act, x] of inputs) {
        expect(Array.from(fakeQuantActivation(param(x.clone()), act).value.data)).toEqual(Array.from(fakeQuantAct(act, x).data));
      }
    });
  }
});
