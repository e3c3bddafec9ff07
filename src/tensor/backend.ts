// The backend contract: ops (ops/*.ts) validate and compute output shapes, then call
// `getBackend().run(kernel, inputs, attrs)`. Each kernel's inputs and attrs are typed in KernelSpecs,
// so there are no string-keyed maps and no casts between the layers (style.md C1, C3, C4).
import type { Tensor } from "./tensor.js";

export type UnaryOp = "relu" | "gelu" | "exp" | "log" | "sqrt" | "rsqrt" | "abs" | "neg" | "square" | "tanh" | "sigmoid";
export type BinaryOp = "add" | "sub" | "mul" | "div" | "max" | "min";
export type ReduceOp = "sum" | "mean" | "max" | "min" | "var";
export type Pair = readonly [number, number];

export interface Conv2dAttrs {
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
}

export interface KernelSpecs {
  unary: { inputs: { x: Tensor }; attrs: { op: UnaryOp } };
  /** Broadcasting elementwise op; `outShape` is the broadcast shape. */
  binary: { inputs: { a: Tensor; b: Tensor }; attrs: { op: BinaryOp; outShape: readonly number[] } };
  /** a: [...batch, M, K] (or [..., K, M] with transposeA); b: [...batch, K, N] (or [..., N, K]); batch dims broadcast. */
  matmul: { inputs: { a: Tensor; b: Tensor }; attrs: { transposeA: boolean; transposeB: boolean; outShape: readonly number[] } };
  /** x: [N, C, H, W], w: [K, C/groups, kh, kw], bias: [K] -> [N, K, OH, OW]. */
  conv2d: { inputs: { x: Tensor; w: Tensor; bias: Tensor | null }; attrs: Conv2dAttrs & { outShape: readonly number[] } };
  /** x: [N, C, H, W] -> [N, C, OH, OW]. */
  pool2d: {
    inputs: { x: Tensor };
    attrs: { mode: "max" | "avg"; kernel: Pair; stride: Pair; padding: Pair; countIncludePad: boolean; outShape: readonly number[] };
  };
  /** x: [N, C, H, W] -> [N, C, OH, OW]; bin i covers [floor(i*H/OH), ceil((i+1)*H/OH)) (PyTorch). */
  adaptiveAvgPool2d: { inputs: { x: Tensor }; attrs: { outShape: readonly number[] } };
  /** Normalises over the last dim: (x - mean) / sqrt(var + eps) * weight + bias (biased var). */
  layerNorm: { inputs: { x: Tensor; weight: Tensor | null; bias: Tensor | null }; attrs: { eps: number } };
  /** Per-channel affine normalisation of x: [N, C, ...] with given mean/var [C] (running or batch statistics). */
  batchNorm: {
    inputs: { x: Tensor; mean: Tensor; variance: Tensor; weight: Tensor | null; bias: Tensor | null };
    attrs: { eps: number };
  };
  /** Per-channel mean and biased variance of x: [N, C, ...] over all dims but 1 -> [2, C] (row 0 mean, row 1 variance). */
  batchMoments: { inputs: { x: Tensor }; attrs: Record<string, never> };
  softmax: { inputs: { x: Tensor }; attrs: { axis: number; log: boolean } };
  /** Reduces `axes` (sorted, unique); output has the reduced dims set to 1 (callers reshape for keepDims=false). */
  reduce: { inputs: { x: Tensor }; attrs: { op: ReduceOp; axes: readonly number[]; unbiased: boolean } };
  /** Index of the max along `axis` (first on ties), as float values; the axis is removed. */
  argmax: { inputs: { x: Tensor }; attrs: { axis: number } };
  permute: { inputs: { x: Tensor }; attrs: { perm: readonly number[] } };
  /** out[i] = x[start + i * step] per axis. */
  slice: { inputs: { x: Tensor }; attrs: { starts: readonly number[]; steps: readonly number[]; outShape: readonly number[] } };
  concat: { inputs: { xs: readonly Tensor[] }; attrs: { axis: number } };
  /** Constant padding; pads[d] = [before, after]. */
  pad: { inputs: { x: Tensor }; attrs: { pads: readonly Pair[]; value: number } };
}

export type KernelName = keyof KernelSpecs;
export type KernelFn<K extends KernelName> = (inputs: KernelSpecs[K]["inputs"], attrs: KernelSpecs[K]["attrs"]) => Tensor;
export type KernelTable = { [K in KernelName]: KernelFn<K> };

export interface Backend {
  readonly name: string;
  /** Human-readable description printed by benches and the CLI. */
  readonly description: string;
  supports(kernel: KernelName): boolean;
  run<K extends KernelName>(kernel: K, inputs: KernelSpecs[K]["inputs"], attrs: KernelSpecs[K]["attrs"]): Tensor;
}

/** A backend made of a (partial) kernel table; kernels it lacks run on `fallback`. */
export function tableBackend(name: string, description: string, table: Partial<KernelTable>, fallback?: Backend): Backend {
  return {
    name,
    description,
    supports: (kernel) => table[kernel] !== undefined,
    run<K extends KernelName>(kernel: K, inputs: KernelSpecs[K]["inputs"], attrs: KernelSpecs[K]["attrs"]): Tensor {
      const fn: KernelTable[K] | undefined = table[kernel];
      if (fn) return fn(inputs, attrs);
      if (fallback) return fallback.run(kernel, inputs, attrs);
      throw new Error(`${kernel}: not implemented by backend '${name}'`);
    },
  };
}
