// The fused ResNet plan run op by op on arrays with the reference integer kernels (qconv2dNaive, then the output stage
// qepilogueNaive, option A / max pooling / average pooling from resnet_ops.ts): the oracle the SIMD pipeline
// (resnet_run.ts) is tested against bit for bit, tensor by tensor (the `trace` hook).
import { type QConv2dParams, qconv2dNaive } from "../kernels/cpu/qconv2d.js";
import { qepilogueNaive } from "../kernels/cpu/qepilogue.js";
import type { QCodes } from "../qtensor.js";
import type { FusedConv, FusedResNetPlan } from "./resnet_plan.js";
import { refoldBatch } from "./resnet_fold.js";
import { accSums, accumulateStats, gatherOptionA, maxPoolPlanes, poolValues, windowSize } from "./resnet_ops.js";
import type { BnAffineSource } from "./resnet_run.js";

/** Called with each tensor the pipeline produces: images row0 .. row0 + n (values and/or codes, NCHW). */
export type FusedTrace = (name: string, values: Int32Array | null, codes: Uint8Array | null, row0: number, n: number) => void;

/** [N, C, H, W] */
export type Dims4 = readonly [number, number, number, number];

export type ConvKernel = (x: QCodes, w: QCodes, bias: Int32Array | null, p: QConv2dParams) => Int32Array;

export function convParams(fc: FusedConv, input: Dims4): QConv2dParams {
  return {
    inputShape: input,
    weightShape: fc.weightShape,
    stride: fc.stride,
    padding: fc.padding,
    dilation: [1, 1],
    groups: 1,
    xZeroPoint: fc.input.zeroPoint,
    wZeroPoint: fc.wZeroPoint,
  };
}

/** Output dims of a fused conv on `input`. */
export function convDims(fc: FusedConv, input: Dims4): Dims4 {
  const [n, , h, w] = input;
  const [k, , kh, kw] = fc.weightShape;
  return [n, k, windowSize(h, kh, fc.stride[0], fc.padding[0]), windowSize(w, kw, fc.stride[1], fc.padding[1])];
}

interface Tensor4 {
  dims: Dims4;
  values: Int32Array | null;
  codes: Uint8Array | null;
}

/** What runFusedReference passes down: the conv kernel, the trace hook, BN with batch statistics (affines) or not. */
interface RunContext {
  kernel: ConvKernel;
  trace: FusedTrace | undefined;
  batch: BnAffineSource | undefined;
}

function conv(fc: FusedConv, x: Uint8Array, dims: Dims4, sc: Int32Array | null, ctx: RunContext): Tensor4 {
  const out = convDims(fc, dims);
  const [n, k, oh, ow] = out;
  const acc = ctx.kernel(x, fc.weight, ctx.batch ? fc.ownBias : fc.bias, convParams(fc, dims));
  let spec = fc.epilogue;
  if (ctx.batch) {
    const sums = accSums(k);
    accumulateStats(acc, 0, n, k, oh * ow, sums);
    spec = refoldBatch(fc, sums, ctx.batch(fc.bn));
  }
  const trace = ctx.trace;
  const r = qepilogueNaive(acc, { channels: k, inner: oh * ow }, spec, sc);
  trace?.(fc.name, r.values, r.codes, 0, dims[0]);
  return { dims: out, values: r.values, codes: r.codes };
}

/**
 * Runs `plan` on input codes [N, 3, H, W] (the stem quantizer's); returns each stage's pooled output [N, C_s].
 * `batch`: BN with the batch's statistics and these affines (as FusedRunOptions.batchStats).
 * @example runFusedReference(plan, quantize(x, plan.input).data as Uint8Array, [N, 3, 32, 32])
 */
export function runFusedReference(
  plan: FusedResNetPlan,
  input: Uint8Array,
  dims: Dims4,
  trace?: FusedTrace,
  kernel: ConvKernel = qconv2dNaive,
  batch?: BnAffineSource,
): Float32Array[] {
  const n = dims[0];
  const ctx: RunContext = { kernel, trace, batch };
  let cur = conv(plan.stem, input, dims, null, ctx);
  if (plan.maxPool) {
    const [, c, h, w] = cur.dims;
    const pool = { h, w, kernel: 3, stride: 2, padding: 1 };
    const pd: Dims4 = [n, c, windowSize(h, 3, 2, 1), windowSize(w, 3, 2, 1)];
    const size = n * c * pd[2] * pd[3];
    const values = new Int32Array(size);
    const codes = new Uint8Array(size);
    maxPoolPlanes(cur.values as Int32Array, 0, values, 0, n * c, pool);
    maxPoolPlanes(cur.codes as Uint8Array, 0, codes, 0, n * c, pool);
    cur = { dims: pd, values, codes };
    trace?.("maxpool", values, codes, 0, n);
  }
  const pooled: Float32Array[] = [];
  plan.stages.forEach((stage, s) => {
    for (const b of stage) {
      let x = cur.codes as Uint8Array;
      let xd = cur.dims;
      for (const fc of b.convs.slice(0, -1)) {
        const t = conv(fc, x, xd, null, ctx);
        x = t.codes as Uint8Array;
        xd = t.dims;
      }
      const end = b.convs[b.convs.length - 1];
      const od = convDims(end, xd);
      let sc: Int32Array;
      const sk = b.shortcut;
      if (sk.kind === "identity") sc = cur.values as Int32Array;
      else if (sk.kind === "optionA") {
        sc = new Int32Array(od[0] * od[1] * od[2] * od[3]);
        const [, c, h, w] = cur.dims;
        gatherOptionA(cur.values as Int32Array, 0, sc, 0, n, { c, h, w, k: od[1], stride: sk.stride, before: sk.before });
      } else {
        let codes = cur.codes as Uint8Array;
        if (b.shortcutCodes) {
          const [, c, h, w] = cur.dims;
          codes = qepilogueNaive(cur.values as Int32Array, { channels: c, inner: h * w }, b.shortcutCodes, null).codes as Uint8Array;
          trace?.(`${b.spec.name}.shortcut_codes`, null, codes, 0, n);
        }
        sc = conv(sk.conv, codes, cur.dims, null, ctx).values as Int32Array;
      }
      cur = conv(end, x, xd, sc, ctx);
    }
    const [, c, h, w] = cur.dims;
    const out = new Float32Array(n * c);
    poolValues(cur.values as Int32Array, 0, n, c, h * w, plan.stageUnits[s], out, 0);
    pooled.push(out);
  });
  return pooled;
}
