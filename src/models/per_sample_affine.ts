// Per-sample affine of a norm layer: y[n, ...] = xhat[n, ...] * W[n, c] + B[n, c], where xhat is the normalised
// input (the norm run with no affine) and row n of W, B [N, C] belongs to sample n. It lets one forward pass
// evaluate a different set of norm parameters on every sample (ZOA's "population" variant: many SPSA
// perturbations in a single pass). Channel axis: 1 for BatchNorm inputs [N, C, ...], last for LayerNorm [N, ..., C].
import { ShapeError, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

export function perSampleAffine(xhat: Tensor, weight: Tensor, bias: Tensor, channelAxis: "first" | "last"): Tensor {
  const N = xhat.shape[0];
  const C = channelAxis === "first" ? xhat.shape[1] : xhat.shape[xhat.rank - 1];
  for (const [name, t] of [["weight", weight], ["bias", bias]] as const) {
    if (t.rank !== 2 || t.shape[0] !== N || t.shape[1] !== C) {
      throw new ShapeError("perSampleAffine", `${name} ${shapeStr(t.shape)} must be [${N}, ${C}] for x ${shapeStr(xhat.shape)}`);
    }
  }
  const x = xhat.data;
  const W = weight.data;
  const B = bias.data;
  const out = new Float32Array(xhat.size);
  const perSample = xhat.size / N;
  if (channelAxis === "first") {
    // [N, C, inner]
    const inner = perSample / C;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const w = W[n * C + c];
        const b = B[n * C + c];
        const base = (n * C + c) * inner;
        for (let i = 0; i < inner; i++) out[base + i] = x[base + i] * w + b;
      }
    }
  } else {
    // [N, rows, C]
    const rows = perSample / C;
    for (let n = 0; n < N; n++) {
      for (let r = 0; r < rows; r++) {
        const base = (n * rows + r) * C;
        for (let c = 0; c < C; c++) out[base + c] = x[base + c] * W[n * C + c] + B[n * C + c];
      }
    }
  }
  return new Tensor(xhat.shape, out);
}
