// Differentiable matmul (batched, broadcast batch dims, optional transposes) and linear.
// C = op(A) op(B) with op(X) = X or X^T:  d op(A) = dC op(B)^T,  d op(B) = op(A)^T dC;
// when A itself is transposed, dA = (d op(A))^T = op(B) dC^T (and likewise for B). Each product is one matmul call
// with the transposes folded into its flags; batch dims that were broadcast are summed away (unbroadcast).
import * as MM from "../tensor/ops/matmul.js";
import { sum } from "../tensor/ops/reduce.js";
import { Tensor } from "../tensor/tensor.js";
import { type Var, record } from "./autograd.js";
import { unbroadcast } from "./grad_elementwise.js";

/** a [..., M, K] x b [..., K, N] -> [..., M, N] (flags as the plain matmul). @example matmul(q, k, { transposeB: true }) */
export function matmul(a: Var, b: Var, opts: MM.MatmulOptions = {}): Var {
  const tA = opts.transposeA ?? false;
  const tB = opts.transposeB ?? false;
  const y = MM.matmul(a.value, b.value, opts);
  return record("matmul", y, [a, b], (g, needs) => {
    let gA: Tensor | null = null;
    let gB: Tensor | null = null;
    if (needs[0]) {
      // !tA: dA = dC op(B)^T;  tA: dA = op(B) dC^T.
      gA = tA
        ? MM.matmul(b.value, g, { transposeA: tB, transposeB: true })
        : MM.matmul(g, b.value, { transposeB: !tB });
      gA = unbroadcast(gA, a.shape);
    }
    if (needs[1]) {
      // !tB: dB = op(A)^T dC;  tB: dB = dC^T op(A).
      gB = tB
        ? MM.matmul(g, a.value, { transposeA: true, transposeB: tA })
        : MM.matmul(a.value, g, { transposeA: !tA });
      gB = unbroadcast(gB, b.shape);
    }
    return [gA, gB];
  });
}

/**
 * y = x W^T + b (PyTorch nn.Linear), x: [..., in], weight: [out, in], bias: [out].
 * dx = dy W, dW = dy^T x (rows of all leading dims), db = sum of dy over rows.
 */
export function linear(x: Var, weight: Var, bias: Var | null = null): Var {
  const y = MM.linear(x.value, weight.value, bias?.value ?? null);
  const [out, inF] = weight.shape;
  const rows = x.value.size / inF;
  const parents = bias ? [x, weight, bias] : [x, weight];
  return record("linear", y, parents, (g, needs) => {
    const g2 = g.reshape([rows, out]);
    const x2 = x.value.reshape([rows, inF]);
    return [
      needs[0] ? MM.matmul(g2, weight.value).reshape(x.shape) : null,
      needs[1] ? MM.matmul(g2, x2, { transposeA: true }) : null,
      ...(bias ? [needs[2] ? sum(g2, 0) : null] : []),
    ];
  });
}
