// A quantized classifier: the float model's graph with every conv / linear / attention matmul run through
// quantizers, in one of two execution modes behind one API:
//   simulated: fake-quant in float32 (x -> dequantize(quantize(x)), weights dequantized), what PyTorch PTQ code does;
//   integer:   activations quantized to codes, int8 x int8 -> int32 kernels (src/quant/kernels/cpu), int32 bias
//              (scale sA * sW[c], zero point 0), accumulators dequantized at the layer output, where the float norm
//              layers (BN affine, LayerNorm), softmax, GELU and residual adds take over.
// Norm affines, BN statistics, prompts and feature shifts pass through to the float graph, so ZOA / FOA / NormAdapt
// work on both modes unchanged. Integer forwards of a ResNet instead run the fused pipeline of src/quant/fused (BN
// folded into the int32 output stages, uint8 codes and an int32 residual stream between layers) where the engine has
// SIMD128: with running BN statistics and the stored affines (NoAdapt, T3A, evaluation) from the plan, with batch
// statistics and any affines (NormAdapt, ZOA) refolded per forward; per-sample affines and prompts run layer by layer.
import type { LayerOps } from "../models/layers.js";
import type { Classifier, ForwardOptions, ForwardResult } from "../models/model.js";
import { ResNet } from "../models/resnet.js";
import { conv2d } from "../tensor/ops/conv.js";
import { add } from "../tensor/ops/elementwise.js";
import { linear, matmul } from "../tensor/ops/matmul.js";
import { pair, windowOut } from "../tensor/ops/conv.js";
import { ShapeError } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { simdSupported } from "../wasm/features.js";
import { type ActQuantizer, fakeQuantAct } from "./act.js";
import { fusedMode, fusedResNetForward } from "./fused/resnet_forward.js";
import { FusedCheckpoint } from "./fused/resnet_checkpoint.js";
import { PlanRefused, type PlanResult, planFusedResNet } from "./fused/resnet_plan.js";
import type { FusedRunOptions } from "./fused/resnet_run.js";
import { dequantizeAcc } from "./kernels/cpu/requantize.js";
import { qbmmFast } from "./kernels/cpu/qgemm.js";
import { qconv2dFast } from "./kernels/cpu/qconv2d.js";
import { qgemmFast } from "./kernels/cpu/qgemm.js";
import { simdQKernels } from "./kernels/simd/index.js";
import type { QuantConfig, QuantMatmulLayer, QuantWeightLayer, QuantizedLayers } from "./ptq.js";
import { type QCodes, quantize } from "./qtensor.js";
import { roundHalfAwayFromZero } from "./rounding.js";

export type ExecMode = "simulated" | "integer";

/** The integer kernels: WebAssembly SIMD128 where the engine has it, else the JS ones (bit-identical results). */
const Q = simdQKernels() ?? { qgemm: qgemmFast, qconv2d: qconv2dFast, qbmm: qbmmFast };

/** Codes of an activation for the integer kernels: one uniform code set, or the two halves of a twin quantizer. */
interface IntOperand {
  /** Code sets and the real value of one code step (sign included) of each. */
  parts: { codes: QCodes; zeroPoint: number; scale: number }[];
}

function toIntOperand(q: ActQuantizer, x: Tensor): IntOperand {
  if (q.kind === "uniform") {
    const t = quantize(x, q.params);
    return { parts: [{ codes: t.data, zeroPoint: q.params.zeroPoint[0], scale: q.params.scale[0] }] };
  }
  // Twin uniform: split codes by their range bit into two unsigned magnitude sets, each a plain uniform
  // quantizer with zero point 0: R1 (step +-delta1) and R2 (step delta2). The two GEMMs are summed in float.
  const tw = q.twin;
  const codes = tw.quantize(x.data);
  const r1 = new Uint8Array(codes.length);
  const r2 = new Uint8Array(codes.length);
  const mask = tw.levels - 1;
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] & tw.levels) r2[i] = codes[i] & mask;
    else r1[i] = codes[i] & mask;
  }
  const sign1 = tw.kind === "gelu" ? -1 : 1;
  return {
    parts: [
      { codes: r1, zeroPoint: 0, scale: sign1 * tw.delta1 },
      { codes: r2, zeroPoint: 0, scale: tw.delta2 },
    ],
  };
}

/**
 * Sum of the dequantized parts of a layer output: the first part's array itself, later parts added into it.
 * Equal bit for bit to summing into a zeroed buffer (test/quant/qmodel_integer.test.ts), without allocating and
 * touching one more output-sized array per layer (slow where fresh pages fault slowly; with the dequantizeAcc
 * loop change, 15 % less CPU per ResNet-20 W8A8 integer forward on the bench machine).
 */
function accumulate(sum: Float32Array | null, y: Float32Array): Float32Array {
  if (sum === null) return y;
  for (let i = 0; i < y.length; i++) sum[i] += y[i];
  return sum;
}

/** int32 bias codes: round(b / (sA * sW[c])), zero point 0 (TFLite's bias convention). */
function biasCodes(bias: Float32Array, inputScale: number, weightScale: Float32Array): Int32Array {
  const out = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = inputScale * weightScale[weightScale.length === 1 ? 0 : c];
    out[c] = roundHalfAwayFromZero(bias[c] / s);
  }
  return out;
}

/** Which QuantizedModel (and mode) a LayerOps object returned by layerOps() belongs to. */
const OWNERS = new WeakMap<LayerOps, { quantized: QuantizedModel; exec: ExecMode }>();

/**
 * The QuantizedModel whose simulated or integer LayerOps `layers` is, or null for any other LayerOps (e.g. a
 * Predictor's `layers`, for methods that need the quantizers themselves, such as TENT with the STE).
 */
export function quantizedModelOf(layers: LayerOps): { quantized: QuantizedModel; exec: ExecMode } | null {
  return OWNERS.get(layers) ?? null;
}

export class QuantizedModel {
  readonly weights: ReadonlyMap<string, QuantWeightLayer>;
  readonly matmuls: ReadonlyMap<string, QuantMatmulLayer>;

  constructor(
    readonly model: Classifier,
    readonly config: QuantConfig,
    layers: QuantizedLayers,
  ) {
    this.weights = layers.weights;
    this.matmuls = layers.matmuls;
    for (const n of model.weightLayers) if (!this.weights.has(n)) throw new ShapeError("QuantizedModel", `no quantization for layer ${n}`);
    for (const n of model.matmulLayers) if (!this.matmuls.has(n)) throw new ShapeError("QuantizedModel", `no quantization for matmul ${n}`);
    OWNERS.set(this.simulated, { quantized: this, exec: "simulated" });
    OWNERS.set(this.integer, { quantized: this, exec: "integer" });
  }

  /** Whether integer forwards may take the fused ResNet pipeline (false: always layer by layer). */
  fuse = true;
  /** Options of the fused pipeline (images per pass). */
  fusedRun: FusedRunOptions = {};
  /** Integer forwards that took the fused pipeline so far. */
  fusedForwards = 0;
  /** Batch-statistics forwards the fused pipeline refused (a refolded channel out of int32, or too large a batch). */
  fusedFallbacks = 0;
  private plan: PlanResult | undefined;
  /** Batch-statistics forwards keep the residual before the first overridden BN here (ZOA's two passes share it). */
  readonly checkpoint = new FusedCheckpoint();

  /**
   * The fused pipeline's plan for this model, or the reason there is none. Built on first use: BN statistics and
   * affines are read then (call resetFusedPlan after changing them in place).
   */
  fusedPlan(): PlanResult {
    this.plan ??= this.model instanceof ResNet ? planFusedResNet(this.model, this.weights) : { plan: null, reason: `${this.model.kind} is not a ResNet` };
    return this.plan;
  }

  resetFusedPlan(): void {
    this.plan = undefined;
    this.checkpoint.clear();
  }

  /** The fused forward, or null (then the model runs layer by layer). */
  private fusedForward(model: Classifier, x: Tensor, opts: ForwardOptions): ForwardResult | null {
    if (!this.fuse || model !== this.model || !(model instanceof ResNet) || fusedMode(opts) === null || !simdSupported()) return null;
    const plan = this.fusedPlan().plan;
    if (!plan) return null;
    try {
      const r = fusedResNetForward(model, plan, this.integer, x, opts, this.fusedRun, this.checkpoint);
      this.fusedForwards++;
      return r;
    } catch (e) {
      if (!(e instanceof PlanRefused)) throw e;
      this.fusedFallbacks++;
      return null;
    }
  }

  private weight(name: string): QuantWeightLayer {
    const l = this.weights.get(name);
    if (!l) throw new ShapeError("QuantizedModel", `layer ${name} was not quantized`);
    return l;
  }

  private mm(name: string): QuantMatmulLayer {
    const l = this.matmuls.get(name);
    if (!l) throw new ShapeError("QuantizedModel", `matmul ${name} was not quantized`);
    return l;
  }

  private readonly simBias = new Map<string, Tensor | null>();

  /**
   * The bias the simulated mode adds: with a uniform input quantizer, the int32 bias of the integer mode
   * dequantized (round(b / (sA sW[c])) * float32(sA sW[c])), so both modes add the same bias and differ only by
   * float summation order; with a twin-uniform input (no single input scale) the float bias, as the integer mode.
   */
  simulatedBias(l: QuantWeightLayer): Tensor | null {
    if (!this.simBias.has(l.name)) {
      let b: Tensor | null = l.bias;
      if (l.bias && l.input.kind === "uniform") {
        const sA = l.input.params.scale[0];
        const codes = biasCodes(l.bias.data, sA, l.weight.scale);
        const sW = l.weight.scale;
        b = new Tensor(l.bias.shape, Float32Array.from(codes, (q, c) => q * Math.fround(sA * sW[sW.length === 1 ? 0 : c])));
      }
      this.simBias.set(l.name, b);
    }
    return this.simBias.get(l.name) ?? null;
  }

  /** Fake-quant execution in float32 (weights, activations and the bias on their integer grids). */
  readonly simulated: LayerOps = {
    conv2d: (name, x, _w, _b, opts) => {
      const l = this.weight(name);
      return conv2d(fakeQuantAct(l.input, x), l.weightFake, this.simulatedBias(l), opts);
    },
    linear: (name, x) => {
      const l = this.weight(name);
      return linear(fakeQuantAct(l.input, x), l.weightFake, this.simulatedBias(l));
    },
    matmul: (name, a, b, opts) => {
      const l = this.mm(name);
      return matmul(fakeQuantAct(l.a, a), fakeQuantAct(l.b, b), opts);
    },
  };

  /** Integer execution: codes in, int32 accumulators, dequantized at the layer output (or the fused ResNet pipeline). */
  readonly integer: LayerOps = {
    network: (model, x, opts) => this.fusedForward(model, x, opts),
    conv2d: (name, x, _w, _b, opts) => {
      const l = this.weight(name);
      const [N, C, H, W] = x.shape;
      const [K, Cg, kh, kw] = l.weight.shape;
      const stride = pair("qconv2d", "stride", opts.stride, 1);
      const padding = pair("qconv2d", "padding", opts.padding, 0);
      const dilation = pair("qconv2d", "dilation", opts.dilation, 1);
      const OH = windowOut(H, kh, stride[0], padding[0], dilation[0]);
      const OW = windowOut(W, kw, stride[1], padding[1], dilation[1]);
      const xi = toIntOperand(l.input, x);
      let out: Float32Array | null = null;
      for (const part of xi.parts) {
        const bias = l.bias && part === xi.parts[0] && xi.parts.length === 1 ? biasCodes(l.bias.data, part.scale, l.weight.scale) : null;
        const acc = Q.qconv2d(part.codes, l.weight.data, bias, {
          inputShape: [N, C, H, W],
          weightShape: [K, Cg, kh, kw],
          stride,
          padding,
          dilation,
          groups: opts.groups ?? 1,
          xZeroPoint: part.zeroPoint,
          wZeroPoint: l.weight.zeroPoint,
        });
        out = accumulate(out, dequantizeAcc(acc, { channels: K, inner: OH * OW }, part.scale, l.weight.scale));
      }
      let result = new Tensor([N, K, OH, OW], out ?? new Float32Array(N * K * OH * OW));
      if (l.bias && xi.parts.length > 1) result = add(result, l.bias.reshape([1, K, 1, 1]));
      return result;
    },
    linear: (name, x) => {
      const l = this.weight(name);
      const [Nout, Kin] = l.weight.shape;
      const lead = x.shape.slice(0, -1);
      const M = x.size / Kin;
      const xi = toIntOperand(l.input, x.reshape([M, Kin]));
      let out: Float32Array | null = null;
      for (const part of xi.parts) {
        const bias = l.bias && xi.parts.length === 1 ? biasCodes(l.bias.data, part.scale, l.weight.scale) : null;
        const acc = Q.qgemm(part.codes, l.weight.data, bias, {
          m: M,
          n: Nout,
          k: Kin,
          transposeB: true,
          aZeroPoint: part.zeroPoint,
          bZeroPoint: l.weight.zeroPoint,
        });
        out = accumulate(out, dequantizeAcc(acc, { channels: Nout, inner: 1 }, part.scale, l.weight.scale));
      }
      let result = new Tensor([M, Nout], out ?? new Float32Array(M * Nout));
      if (l.bias && xi.parts.length > 1) result = add(result, l.bias);
      return result.reshape([...lead, Nout]);
    },
    matmul: (name, a, b, opts) => {
      const l = this.mm(name);
      if (opts.transposeA) throw new ShapeError("qmatmul", "transposeA is not supported in integer mode");
      const transposeB = opts.transposeB ?? false;
      const r = a.rank;
      const M = a.shape[r - 2];
      const K = a.shape[r - 1];
      const N = transposeB ? b.shape[r - 2] : b.shape[r - 1];
      const batchShape = a.shape.slice(0, -2);
      const batch = batchShape.reduce((p, d) => p * d, 1);
      if (b.rank !== r || b.size !== batch * K * N) throw new ShapeError("qmatmul", "integer attention matmul needs equal batch dims");
      const ai = toIntOperand(l.a, a);
      const bi = toIntOperand(l.b, b);
      let out: Float32Array | null = null;
      const bp = bi.parts[0];
      for (const part of ai.parts) {
        const acc = Q.qbmm(part.codes, bp.codes, { batch, m: M, n: N, k: K, transposeB, aZeroPoint: part.zeroPoint, bZeroPoint: Int32Array.of(bp.zeroPoint) });
        out = accumulate(out, dequantizeAcc(acc, { channels: 1, inner: 1 }, part.scale, Float32Array.of(bp.scale)));
      }
      return new Tensor([...batchShape, M, N], out ?? new Float32Array(batch * M * N));
    },
  };

  layerOps(mode: ExecMode): LayerOps {
    return mode === "integer" ? this.integer : this.simulated;
  }

  forward(x: Tensor, opts: ForwardOptions & { exec?: ExecMode } = {}): ForwardResult {
    return this.model.forward(x, { ...opts, layers: this.layerOps(opts.exec ?? "simulated") });
  }

  /** Bytes of the deployed model: weight codes bit-packed at their width, per-channel scales, and every float
   * parameter that is not a quantized weight (norms, biases, embeddings). */
  memoryBytes(): { total: number; weightCodes: number; scales: number; floatParams: number } {
    let weightCodes = 0;
    let scales = 0;
    const quantized = new Set<string>();
    for (const l of this.weights.values()) {
      weightCodes += Math.ceil((l.weight.data.length * l.weight.bits) / 8);
      scales += l.weight.scale.length * 4 + 8; // per-channel scales + activation scale and zero point
      quantized.add(`${l.name}.weight`);
    }
    scales += this.matmuls.size * 16;
    let floatParams = 0;
    for (const [name, t] of this.model.params.tensors) if (!quantized.has(name)) floatParams += t.size * 4;
    return { total: weightCodes + scales + floatParams, weightCodes, scales, floatParams };
  }
}

/** Bytes of the float32 model, for comparison. */
export function floatModelBytes(model: Classifier): number {
  return model.params.count() * 4;
}

export type { ExecMode as QuantExecMode };

