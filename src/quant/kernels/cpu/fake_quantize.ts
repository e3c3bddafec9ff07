// Per-tensor fake quantization as one tight loop, bit for bit qtensor.ts fakeQuantizeNaive (the reference: per element
// toCode, then dequantize):
//   out[i] = float32( s * (clamp(roundHalfToEven(x[i] / s) + z, qmin, qmax) - z) ),  NaN -> +0
// roundHalfToEven(t) is (t + M) - M with M = 1.5 * 2^52: for |t| <= 2^51 the sum lies in [2^52, 2^53], where doubles
// are the integers, so the add itself rounds t to an integer, ties to even, and the subtraction is exact (and gives
// +0, never -0). Beyond 2^51 both steps are monotone in t, so t >= 2^51 stays >= 2^51 and t <= -2^51 stays <= -2^51:
// far outside every code range (|q| < 2^9), so the clamp picks the same end code. +-Infinity pass through unchanged.
const ROUND_MAGIC = 1.5 * 2 ** 52;

/**
 * The scalar per-tensor path (small arrays, engines without SIMD128). Preconditions as fakeQuantizeSimd's: s a finite
 * float32 > 0, z and qmin <= z <= qmax integers.
 * @example fakeQuantizeScalar(Float32Array.of(0.3), 1 / 3, 0, 0, 3) -> Float32Array [1/3]
 */
export function fakeQuantizeScalar(x: Float32Array, s: number, z: number, qmin: number, qmax: number): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    let q = z; // NaN: the zero point's code, real +0
    if (v === v) {
      q = v / s + ROUND_MAGIC - ROUND_MAGIC + z;
      q = q < qmin ? qmin : q > qmax ? qmax : q;
    }
    out[i] = s * (q - z);
  }
  return out;
}
