// Oracle: the BigInt GEMM per (batch, head) on ViT shapes; naive and fast variants bit for bit.
import fc from "fast-check";
import { describe, it } from "vitest";
import { qattentionContext, qattentionScores } from "../../src/quant/kernels/cpu/qattention.js";
import { Rng } from "../../src/tensor/rng.js";
import { expectBitExact, qgemmOracle, randomCodes } from "./oracle.js";

const dimsCase = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  heads: fc.integer({ min: 1, max: 3 }),
  tokens: fc.integer({ min: 1, max: 7 }),
  headDim: fc.integer({ min: 1, max: 9 }),
  seed: fc.integer(),
});

describe("qattention", () => {
  it("scores (Q - zQ)(K - zK)^T and context (P - zP)(V - zV) equal the BigInt GEMM per head", () => {
    fc.assert(
      fc.property(dimsCase, (d) => {
        const rng = new Rng(d.seed);
        const bh = d.batch * d.heads;
        const { tokens: t, headDim: hd } = d;
        const q = randomCodes(rng, bh * t * hd, true);
        const k = randomCodes(rng, bh * t * hd, true);
        const p = randomCodes(rng, bh * t * t, false); // post-softmax codes, unsigned
        const v = randomCodes(rng, bh * t * hd, true);
        const [zQ, zK, zP, zV] = [rng.int(-128, 128), rng.int(-128, 128), 0, rng.int(-128, 128)];
        const scores = new Int32Array(bh * t * t);
        const context = new Int32Array(bh * t * hd);
        for (let s = 0; s < bh; s++) {
          const head = (x: typeof q, len: number) => x.subarray(s * len, (s + 1) * len);
          const sp = { m: t, n: t, k: hd, transposeB: true, aZeroPoint: zQ, bZeroPoint: Int32Array.of(zK) };
          scores.set(qgemmOracle(head(q, t * hd), head(k, t * hd), null, sp), s * t * t);
          const cp = { m: t, n: hd, k: t, transposeB: false, aZeroPoint: zP, bZeroPoint: Int32Array.of(zV) };
          context.set(qgemmOracle(head(p, t * t), head(v, t * hd), null, cp), s * t * hd);
        }
        for (const variant of ["naive", "fast"] as const) {
          expectBitExact(qattentionScores(q, k, d, zQ, zK, variant), scores, `scores ${variant}`);
          expectBitExact(qattentionContext(p, v, d, zP, zV, variant), context, `context ${variant}`);
        }
      }),
      { numRuns: 150 },
    );
  });
});
