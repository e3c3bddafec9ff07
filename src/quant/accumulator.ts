// Int32 accumulator bound for integer GEMM/conv: |sum_k (a - zA) * (w - zW) + bias| <= K * maxA * maxW + max|bias|,
// with maxA = max over codes and zero points of |a - zA| (likewise maxW). The kernels assert this worst case before
// they run, so no input can overflow int32, whatever its codes.
// Max K for 8-bit codes (bias 0): activations with any zero point (|a - zA| <= 255) times symmetric int8 weights
// (zW = 0, |w| <= 128) allow K <= 65793; both operands with arbitrary zero points (255 * 255) allow K <= 33025.
import { INT32_MAX } from "./fixedpoint.js";
import { qRange } from "./qtensor.js";

/** One GEMM operand as the bound sees it: its code range and the zero point(s) subtracted from it. */
export interface AccumulatorOperand {
  readonly bits: number;
  readonly signed: boolean;
  readonly narrow?: boolean;
  /** One zero point (per tensor) or one per channel. */
  readonly zeroPoint: number | ArrayLike<number>;
}

/** K limit for 8-bit activations with any zero point times symmetric int8 weights (zW = 0), no bias. */
export const MAX_K_8BIT_SYMMETRIC_WEIGHTS = 65793;
/** K limit when both 8-bit operands have arbitrary zero points, no bias. */
export const MAX_K_8BIT_ANY_ZERO_POINTS = 33025;

/**
 * max |q - zeroPoint| over all codes q of the operand's range and all its zero points.
 * @example maxCenteredMagnitude({bits: 8, signed: false, zeroPoint: 0}) === 255
 */
export function maxCenteredMagnitude(x: AccumulatorOperand): number {
  const { qmin, qmax } = qRange(x.bits, x.signed, { narrow: x.narrow ?? false });
  const zps = typeof x.zeroPoint === "number" ? [x.zeroPoint] : Array.from(x.zeroPoint);
  let m = 0;
  for (const z of zps) m = Math.max(m, Math.abs(qmin - z), Math.abs(qmax - z));
  return m;
}

/**
 * Worst-case |accumulator| of a length-k dot product plus a bias of magnitude <= maxAbsBias (exact: < 2^53 here).
 * @example maxAbsAccumulator(2, {bits: 8, signed: true, zeroPoint: 0}, {bits: 8, signed: true, zeroPoint: 0}) === 32768
 */
export function maxAbsAccumulator(k: number, a: AccumulatorOperand, w: AccumulatorOperand, maxAbsBias = 0): number {
  return k * maxCenteredMagnitude(a) * maxCenteredMagnitude(w) + Math.abs(maxAbsBias);
}

/**
 * Largest K whose worst-case accumulator fits int32 (|acc| <= 2^31 - 1); 0 when even the bias does not fit.
 * @example maxSupportedK({bits: 8, signed: false, zeroPoint: 0}, {bits: 8, signed: true, zeroPoint: 0}) === 65793
 */
export function maxSupportedK(a: AccumulatorOperand, w: AccumulatorOperand, maxAbsBias = 0): number {
  const perTerm = maxCenteredMagnitude(a) * maxCenteredMagnitude(w);
  const room = INT32_MAX - Math.abs(maxAbsBias);
  if (room < 0) return 0;
  return perTerm === 0 ? Number.POSITIVE_INFINITY : Math.floor(room / perTerm);
}

/**
 * Throws a RangeError naming `op` unless every accumulator of a length-k dot product provably fits int32.
 * @example assertNoInt32Overflow("qgemm", 1024, act, wt) // passes; k = 70000 with 8-bit codes throws
 */
export function assertNoInt32Overflow(op: string, k: number, a: AccumulatorOperand, w: AccumulatorOperand, maxAbsBias = 0): void {
  const worst = maxAbsAccumulator(k, a, w, maxAbsBias);
  if (worst > INT32_MAX) {
    throw new RangeError(
      `${op}: int32 accumulator may overflow: K=${k} x max|a-zA|=${maxCenteredMagnitude(a)} x max|w-zW|=` +
        `${maxCenteredMagnitude(w)} + max|bias|=${Math.abs(maxAbsBias)} = ${worst} > 2^31-1; ` +
        `the largest supported K here is ${maxSupportedK(a, w, maxAbsBias)} (split K or use fewer bits)`,
    );
  }
}

/** max |bias[i]|, 0 for no bias. */
export function maxAbsInt32(bias: Int32Array | null): number {
  let m = 0;
  if (bias) for (let i = 0; i < bias.length; i++) m = Math.max(m, Math.abs(bias[i]));
  return m;
}
