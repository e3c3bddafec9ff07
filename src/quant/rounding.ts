// Named rounding modes for quantization. Two are used, and each call site names the one it means:
//   roundHalfToEven       - float -> code in quantize/fakeQuantize (PyTorch fake-quant, numpy.round, IEEE default);
//   roundHalfAwayFromZero - the fixed-point path (TfLiteRound / C roundf, used by quantizeMultiplier).
// NOTE: JS Math.round is neither: it rounds halves toward +infinity (Math.round(-2.5) === -2, Math.round(2.5) === 3).

/**
 * Rounds to the nearest integer, ties to the even neighbour ("banker's rounding"). Never returns -0.
 * @example roundHalfToEven(2.5) === 2; roundHalfToEven(-2.5) === -2; roundHalfToEven(3.5) === 4
 */
export function roundHalfToEven(x: number): number {
  const r = Math.round(x); // ties toward +infinity
  // NOTE: r - x is exact here (r and x are within 0.5 of each other), so the tie test is exact.
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r + 0; // -0 + 0 === +0
}

/**
 * Rounds to the nearest integer, ties away from zero (C `roundf`, TFLite `TfLiteRound`). Never returns -0.
 * @example roundHalfAwayFromZero(2.5) === 3; roundHalfAwayFromZero(-2.5) === -3
 */
export function roundHalfAwayFromZero(x: number): number {
  const r = Math.round(Math.abs(x)); // on |x| ties toward +infinity are ties away from zero
  return x < 0 ? 0 - r : r;
}
