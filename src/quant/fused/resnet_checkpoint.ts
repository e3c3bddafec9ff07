// A checkpoint of a batch-statistics forward of the fused ResNet pipeline: the residual tensor (values and codes) at
// the input of one block, for the whole batch, with what it depends on (the input, the BN affines before that block).
// ZOA's two passes on the same batch differ only in the adapted norm layers (ResNet-20: from layer1.1 on), so its
// perturbed pass resumes from the clean pass's checkpoint instead of recomputing the stem and the blocks before it.
// The match is by value (input and every prefix affine compared element by element), so a caller that edits a
// tensor in place between forwards gets a recomputation, never a stale result.
import type { BnMoments } from "../../models/model.js";
import type { AccSums } from "./resnet_ops.js";
import type { Dims4 } from "./resnet_reference.js";

export class FusedCheckpoint {
  /** Flat index of the block whose input is kept (-1: none kept yet). */
  block = -1;
  dims: Dims4 = [0, 0, 0, 0];
  input: Float32Array | Uint8Array = new Float32Array(0);
  /** The prefix's BN affines (weight then bias of every conv's BN before the block, in forward order). */
  affines: Float64Array = new Float64Array(0);
  /** The block input: dims, int32 values and uint8 codes (NCHW). */
  at: Dims4 = [0, 0, 0, 0];
  values: Int32Array = new Int32Array(0);
  codes: Uint8Array = new Uint8Array(0);
  /** Pooled outputs of the stages that end before the block, and the stem's accumulator sums. */
  pooled: Float32Array<ArrayBuffer>[] = [];
  stemSums: AccSums | null = null;
  /** The BN statistics the prefix reported (ForwardOptions.onBnStats), replayed on resume. */
  bnStats: [string, BnMoments][] = [];
  /** Forwards that resumed from it (tests, reports). */
  hits = 0;

  /** Whether a forward on `input` with these prefix affines may resume at `block`. */
  matches(block: number, input: Float32Array | Uint8Array, dims: Dims4, affines: Float64Array): boolean {
    return (
      this.block === block &&
      this.input.constructor === input.constructor &&
      sameArray(this.dims, dims) &&
      sameArray(this.input, input) &&
      sameArray(this.affines, affines)
    );
  }

  clear(): void {
    this.block = -1;
    this.input = new Float32Array(0);
    this.values = new Int32Array(0);
    this.codes = new Uint8Array(0);
    this.pooled = [];
    this.stemSums = null;
    this.bnStats = [];
  }
}

/** Element-wise equality (Object.is: NaN equals NaN, so a NaN input still matches itself). */
function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
