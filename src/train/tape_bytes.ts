// Memory the tape holds for backprop: every Var of a recorded graph keeps its value alive until the graph is
// dropped, and backward closures read their parents' values, so the retained activations are the values of every
// recorded Var and of every parent of one. Leaves ("param", "constant": trainable tensors, model weights, the input
// batch) belong to their owners and are not counted, nor is a value sharing storage with one. Values that are the
// same view of one buffer (reshape, flatten) count once; each distinct view counts its own bytes.
// NOTE: scratch the backward closures allocate while they run (gradients, float64 sums) is transient, not counted.
import type { Var } from "./autograd.js";

const isLeaf = (v: Var): boolean => v.op === "param" || v.op === "constant";

/**
 * Bytes of the activations the graph ending at `root` keeps for backward (see the header).
 * @example const logits = forward(model, constant(x), true); tapeBytes(logits) // before backward(logits, seed)
 */
export function tapeBytes(root: Var): number {
  const seen = new Set<Var>();
  const leafBuffers = new Set<ArrayBufferLike>();
  const views = new Map<ArrayBufferLike, Map<number, number>>(); // buffer -> byteOffset -> largest byteLength
  const stack: Var[] = [root];
  while (stack.length > 0) {
    const v = stack.pop() as Var;
    if (seen.has(v)) continue;
    seen.add(v);
    const d = v.value.data;
    if (isLeaf(v)) leafBuffers.add(d.buffer);
    else {
      const byOffset = views.get(d.buffer) ?? new Map<number, number>();
      byOffset.set(d.byteOffset, Math.max(byOffset.get(d.byteOffset) ?? 0, d.byteLength));
      views.set(d.buffer, byOffset);
    }
    for (const p of v.parents) stack.push(p);
  }
  let bytes = 0;
  for (const [buffer, byOffset] of views) if (!leafBuffers.has(buffer)) for (const n of byOffset.values()) bytes += n;
  return bytes;
}
