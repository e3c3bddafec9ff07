// Float32 exactness of the gpu.js kernels (style.md C10). On the GL backends gpu.js declares constants and
// index arithmetic as float (`const float constants_K = 768.0`, `int(float(threadId.y) * constants_K + ...)`),
// so an index is exact only while it stays below 2^24, and floor((i + 0.5) / d), the kernels' integer
// division, is exact while i < 2^23 (the quotient's rounding error, i * 2^-24, stays under the 0.5 / d margin).
// Each op wrapper checks these bounds before dispatch and otherwise splits the work or runs on the CPU.

export interface GpuLimits {
  /** Every array a kernel reads, and every output, holds fewer elements than this. */
  readonly elements: number;
  /** Every value divided with floor((i + 0.5) / d) inside a kernel is below this. */
  readonly dividend: number;
}

export const MAX_GPU_ELEMENTS = 2 ** 24;
export const MAX_GPU_DIVIDEND = 2 ** 23;
export const DEFAULT_GPU_LIMITS: GpuLimits = { elements: MAX_GPU_ELEMENTS, dividend: MAX_GPU_DIVIDEND };

/** True when every size is below the element limit. */
export function fits(limits: GpuLimits, ...sizes: number[]): boolean {
  return sizes.every((n) => n < limits.elements);
}
