// Deterministic weights: every parameter value is a pure function of (tensor name, flat index), so tests can build
// ResNet-50 / ViT-B weights without committed files. Bit-identical to tools/reference/detweights.py:
//   seed(name) = FNV-1a 32-bit over UTF-8(name);  h(i) = fmix32((i+1)*0x9E3779B1 + seed)  (all mod 2^32)
//   u(i) = h(i) / 2^32 * 2 - 1 (float64, [-1, 1));  value = fround(scale * u + offset)
// (offset, scale) depend on the name and shape: see detRule.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const GOLDEN = 0x9e3779b1;
const TWO_POW_32 = 4294967296;

/** Name of the deterministic input tensor (offset 0, scale 1), shape [N, C, H, W]. */
export const DET_INPUT_NAME = "input";

const utf8 = new TextEncoder();

/** FNV-1a 32-bit hash of the UTF-8 bytes of `name`, as an unsigned 32-bit integer. */
export function fnv1a32(name: string): number {
  let h = FNV_OFFSET;
  for (const byte of utf8.encode(name)) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** MurmurHash3 32-bit finalizer; input and output are unsigned 32-bit integers. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** h(i) for one flat index 0 <= i < 2^32 (NOTE: Math.imul applies ToInt32, so i + 1 = 2^32 wraps to 0). */
export function detHashAt(seed: number, i: number): number {
  return fmix32((Math.imul(i + 1, GOLDEN) + seed) >>> 0);
}

/** u(i) in [-1, 1) for one flat index. */
export function detUniformAt(name: string, i: number): number {
  return (detHashAt(fnv1a32(name), i) / TWO_POW_32) * 2 - 1;
}

/** u(0..n-1) for a tensor name, as float64. */
export function detUniform(name: string, n: number): Float64Array {
  const seed = fnv1a32(name);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (detHashAt(seed, i) / TWO_POW_32) * 2 - 1;
  return out;
}

export interface DetRule {
  offset: number;
  scale: number;
}

/**
 * (offset, scale) for a tensor, or null for tensors that are not float parameters (num_batches_tracked).
 * Order: input; num_batches_tracked; running_var (1, 0.5); running_mean (0, 0.1); 1-D *weight (1, 0.1);
 * 1-D *bias (0, 0.05); cls_token / pos_embed (0, 0.02); otherwise (0, sqrt(3 / prod(shape[1:]))).
 */
export function detRule(name: string, shape: readonly number[]): DetRule | null {
  if (name === DET_INPUT_NAME) return { offset: 0, scale: 1 };
  if (name.endsWith("num_batches_tracked")) return null;
  if (name.endsWith("running_var")) return { offset: 1, scale: 0.5 };
  if (name.endsWith("running_mean")) return { offset: 0, scale: 0.1 };
  if (shape.length === 1 && name.endsWith("weight")) return { offset: 1, scale: 0.1 };
  if (shape.length === 1 && name.endsWith("bias")) return { offset: 0, scale: 0.05 };
  if (name.includes("cls_token") || name.includes("pos_embed")) return { offset: 0, scale: 0.02 };
  let fanIn = 1;
  for (let d = 1; d < shape.length; d++) fanIn *= shape[d];
  return { offset: 0, scale: Math.sqrt(3 / fanIn) };
}

/**
 * Deterministic values of a named tensor (row-major), or null for num_batches_tracked.
 * @example detTensorValues("layer1.0.conv1.weight", [16, 16, 3, 3]) // Float32Array(2304)
 */
export function detTensorValues(name: string, shape: readonly number[]): Float32Array | null {
  const rule = detRule(name, shape);
  if (rule === null) return null;
  let n = 1;
  for (const s of shape) n *= s;
  const seed = fnv1a32(name);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = (detHashAt(seed, i) / TWO_POW_32) * 2 - 1;
    out[i] = rule.scale * u + rule.offset; // float64 math, one rounding to float32 on store
  }
  return out;
}

/** The deterministic model input ("input", offset 0, scale 1), shape [N, C, H, W]. */
export function detInput(shape: readonly number[]): Float32Array {
  return detTensorValues(DET_INPUT_NAME, shape) as Float32Array;
}
