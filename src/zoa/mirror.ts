// Horizontal mirror of a batch of images x [N, C, H, W] (normalised or not: the per-channel normalisation commutes
// with it): out[n, c, y, w] = x[n, c, y, W - 1 - w]. ZOA's `mirror` variant feeds it to the perturbed pass, so the
// two passes of a step see two views of the batch (CIFAR models are trained with random horizontal flips).
// It is the backend's strided slice with step -1 along W (so on gpujs the batch stays on the GPU).
import { getBackend } from "../tensor/backends.js";
import { ShapeError, shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

export function mirrorImages(x: Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError("mirrorImages", `x must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  const W = x.shape[3];
  return getBackend().run("slice", { x }, { starts: [0, 0, 0, Math.max(0, W - 1)], steps: [1, 1, 1, -1], outShape: x.shape });
}
