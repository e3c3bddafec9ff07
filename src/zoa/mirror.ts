// Horizontal mirror of a batch of images x [N, C, H, W] (normalised or not: the per-channel normalisation commutes
// with it): out[n, c, y, w] = x[n, c, y, W - 1 - w]. ZOA's `mirror` variant feeds it to the perturbed pass, so the
// two passes of a step see two views of the batch (CIFAR models are trained with random horizontal flips).
import { ShapeError, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

export function mirrorImages(x: Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError("mirrorImages", `x must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  const W = x.shape[3];
  const out = new Float32Array(x.size);
  const src = x.data;
  for (let row = 0; row < x.size; row += W) for (let w = 0; w < W; w++) out[row + w] = src[row + W - 1 - w];
  return new Tensor(x.shape, out);
}
