// The SIMD per-plane statistics kernel (acc_stats_kernel.ts) against a BigInt oracle (exact sums, exact sums of
// squares, exact max |acc|) and, where float64 is exact, bit for bit against accumulateStats (resnet_ops.ts), the
// reference the fused pipeline's batch-statistics forwards and its reference executor share.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accSums, accumulateStats, addPlaneStats } from "../../src/quant/fused/resnet_ops.js";
import { ACC_STATS_BYTES } from "../../src/quant/kernels/simd/acc_stats_kernel.js";
import { Arena, ensureBytes, getQRuntime } from "../../src/quant/kernels/simd/runtime.js";
import { simdSupported } from "../../src/wasm/features.js";

/** Runs the kernel on planes [planes, p] (int32) placed at a 4-byte but not 16-byte aligned address; 3 f64 per plane. */
function kernelStats(acc: Int32Array, planes: number, p: number): Float64Array {
  const rt = getQRuntime();
  const arena = new Arena(1 << 20);
  const at = arena.take(4 * acc.length + 64) + 4;
  const out = arena.take(ACC_STATS_BYTES * planes);
  ensureBytes(rt, arena.end);
  rt.i32.set(acc, at >> 2);
  rt.k.accStats(at, planes, p, out);
  return new Float64Array(rt.memory.buffer, out, 3 * planes).slice();
}

function oracle(acc: Int32Array, planes: number, p: number): { sum: bigint; sq: bigint; max: bigint }[] {
  return Array.from({ length: planes }, (_, q) => {
    let sum = 0n;
    let sq = 0n;
    let max = 0n;
    for (let i = q * p; i < (q + 1) * p; i++) {
      const v = BigInt(acc[i]);
      sum += v;
      sq += v * v;
      const a = v < 0n ? -v : v;
      if (a > max) max = a;
    }
    return { sum, sq, max };
  });
}

describe.skipIf(!simdSupported())("accStats kernel (skipped without SIMD128)", () => {
  it("equals the exact sums and the float64 reference on generated planes (tails of 0-3, |acc| < 2^22, so every sum is below 2^53)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 67 }),
        fc.array(fc.integer({ min: -(2 ** 22) + 1, max: 2 ** 22 - 1 }), { minLength: 1, maxLength: 64 }),
        (planes, p, seedValues) => {
          const acc = Int32Array.from({ length: planes * p }, (_, i) => seedValues[(i * 7 + (i >> 3)) % seedValues.length] * (i % 3 === 0 ? -1 : 1));
          const got = kernelStats(acc, planes, p);
          oracle(acc, planes, p).forEach((o, q) => {
            expect(got[3 * q]).toBe(Number(o.sum));
            expect(got[3 * q + 1]).toBe(Number(o.sq)); // below 2^53: exact
            expect(got[3 * q + 2]).toBe(Number(o.max));
          });
          const viaKernel = accSums(1);
          const viaReference = accSums(1);
          addPlaneStats(got, planes, 1, p, viaKernel);
          accumulateStats(acc, 0, planes, 1, p, viaReference);
          expect(Array.from(viaKernel.sum)).toEqual(Array.from(viaReference.sum));
          expect(Array.from(viaKernel.sumSq)).toEqual(Array.from(viaReference.sumSq));
          expect(Array.from(viaKernel.absMax)).toEqual(Array.from(viaReference.absMax));
          expect(viaKernel.count).toBe(viaReference.count);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it("takes |INT32_MIN| = 2^31 and the int32 extremes (sums exact, squares to float64's rounding)", () => {
    const acc = Int32Array.of(-2147483648, 2147483647, 5, -3, 0, -2147483648, 1);
    const got = kernelStats(acc, 1, acc.length);
    const o = oracle(acc, 1, acc.length)[0];
    expect(got[0]).toBe(Number(o.sum));
    expect(got[2]).toBe(2 ** 31);
    expect(Math.abs(got[1] - Number(o.sq)) / Number(o.sq)).toBeLessThan(1e-15);
  });

  it("zero planes write nothing", () => {
    const rt = getQRuntime();
    ensureBytes(rt, 1 << 21);
    const out = (1 << 20) + 256;
    new Float64Array(rt.memory.buffer, out, 3).fill(9);
    rt.k.accStats(1 << 20, 0, 8, out);
    expect(Array.from(new Float64Array(rt.memory.buffer, out, 3))).toEqual([9, 9, 9]);
  });
});
