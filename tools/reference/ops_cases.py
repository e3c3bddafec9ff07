"""Per-op golden cases: small seeded random float32 inputs, expected outputs from PyTorch (float32, CPU).

Each case: {name, op, attrs, inputs: {name: GoldenArray}, output: GoldenArray | {name: GoldenArray}}.
Inputs are listed in the order the op takes them (JSON keeps key order). Attribute conventions are in
tools/reference/README.md.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from goldenio import garr


class CaseList:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.cases: list[dict] = []

    def uniform(self, shape, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
        return self.rng.uniform(lo, hi, size=shape).astype(np.float32)

    def normal(self, shape, std: float = 1.0) -> np.ndarray:
        return (self.rng.standard_normal(size=shape) * std).astype(np.float32)

    def add(self, name: str, op: str, attrs: dict, inputs: dict, output) -> None:
        assert all(c["name"] != name for c in self.cases), name
        if isinstance(output, dict):
            out = {k: garr(v) for k, v in output.items()}
        else:
            out = garr(output)
        self.cases.append({"name": name, "op": op, "attrs": attrs,
                           "inputs": {k: garr(v) for k, v in inputs.items()}, "output": out})


def t(x: np.ndarray) -> torch.Tensor:
    assert x.dtype == np.float32, x.dtype  # NOTE: a float64 input would silently make a float64 golden
    return torch.from_numpy(np.ascontiguousarray(x))


def _elementwise(c: CaseList) -> None:
    binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    shapes = [
        ("same", [2, 3, 4], [2, 3, 4]),
        ("row", [2, 3, 4], [4]),                 # trailing-dim broadcast
        ("outer", [2, 1, 4], [3, 1]),            # both sides broadcast -> [2,3,4]
        ("channel", [2, 3, 4, 5], [3, 1, 1]),    # per-channel bias
        ("scalar", [3, 5], [1]),
        ("lhs", [1, 4], [3, 2, 4]),              # lhs broadcast, rank differs
    ]
    for op, fn in binary.items():
        for tag, sa, sb in shapes:
            a = c.uniform(sa, -2, 2)
            b = c.uniform(sb, -2, 2)
            if op == "div":  # keep |b| >= 0.25
                b = (np.sign(b) * (np.abs(b) + 0.25)).astype(np.float32)
            c.add(f"{op}_{tag}", op, {}, {"a": a, "b": b}, fn(t(a), t(b)))

    x = c.uniform([3, 7], -3, 3)
    x[0, :3] = [0.0, -0.0, 1e-8]
    c.add("relu", "relu", {}, {"x": x}, F.relu(t(x)))

    g = np.concatenate([np.linspace(-10, 10, 41, dtype=np.float32), c.normal([23], 2.0),
                        np.array([-8.5, -6.0, -5.5, 5.5, 6.0, 8.5, 0.0, 1e-3, -1e-3], np.float32)])
    c.add("gelu_erf", "gelu", {"approximate": "none"}, {"x": g}, F.gelu(t(g)))
    g2 = c.normal([2, 3, 8], 1.5)
    c.add("gelu_erf_3d", "gelu", {"approximate": "none"}, {"x": g2}, F.gelu(t(g2)))

    x = c.uniform([4, 9], -5, 5)
    c.add("exp", "exp", {}, {"x": x}, torch.exp(t(x)))
    x = np.concatenate([c.uniform([30], 0.01, 10), np.array([1.0, 1e-4, 100.0, 0.5, 2.0, 1e3], np.float32)])
    c.add("log", "log", {}, {"x": x}, torch.log(t(x)))
    x = np.concatenate([c.uniform([30], 0, 10), np.array([0.0, 1.0, 4.0, 1e-6, 2.0, 1e4], np.float32)])
    c.add("sqrt", "sqrt", {}, {"x": x}, torch.sqrt(t(x)))
    x = np.concatenate([c.uniform([30], -4, 4), np.array([0.0, 10.0, -10.0, 20.0, -20.0, 1e-4], np.float32)])
    c.add("tanh", "tanh", {}, {"x": x}, torch.tanh(t(x)))
    x = np.concatenate([c.uniform([30], -10, 10), np.array([0.0, 20.0, -20.0, 50.0, -50.0, 1e-4], np.float32)])
    c.add("sigmoid", "sigmoid", {}, {"x": x}, torch.sigmoid(t(x)))


def _matmul(c: CaseList) -> None:
    def mm(name, sa, sb, ta=False, tb=False):
        a = c.uniform(sa)
        b = c.uniform(sb)
        A = t(a).transpose(-2, -1) if ta else t(a)
        B = t(b).transpose(-2, -1) if tb else t(b)
        c.add(name, "matmul", {"transposeA": ta, "transposeB": tb}, {"a": a, "b": b}, A @ B)

    mm("matmul_2d", [3, 4], [4, 5])
    mm("matmul_2d_long_k", [2, 67], [67, 3])
    mm("matmul_batched", [2, 3, 4], [2, 4, 5])
    mm("matmul_bcast_batch", [2, 1, 3, 4], [3, 4, 5])       # -> [2,3,3,5]
    mm("matmul_bcast_rhs_2d", [2, 3, 4], [4, 6])            # rhs has no batch dims
    mm("matmul_transB", [3, 4], [5, 4], tb=True)
    mm("matmul_transA", [4, 3], [4, 5], ta=True)
    mm("matmul_transAB_batched", [2, 4, 3], [2, 5, 4], ta=True, tb=True)
    mm("matmul_attn_qk", [2, 2, 5, 8], [2, 2, 5, 8], tb=True)  # q @ k^T per head

    x, w, b = c.uniform([2, 5, 6]), c.uniform([4, 6]), c.uniform([4])
    c.add("linear_bias", "linear", {}, {"x": x, "weight": w, "bias": b}, F.linear(t(x), t(w), t(b)))
    x, w = c.uniform([3, 6]), c.uniform([7, 6])
    c.add("linear_nobias", "linear", {}, {"x": x, "weight": w}, F.linear(t(x), t(w)))


def _conv(c: CaseList) -> None:
    # (name, x shape, out channels, kernel, stride, padding, dilation, groups, bias)
    specs = [
        ("k3_s1_p1", [2, 3, 8, 8], 4, [3, 3], [1, 1], [1, 1], [1, 1], 1, True),
        ("k3_s2_p1_nobias", [2, 3, 8, 8], 4, [3, 3], [2, 2], [1, 1], [1, 1], 1, False),
        ("k3_s1_p0", [1, 2, 6, 6], 3, [3, 3], [1, 1], [0, 0], [1, 1], 1, True),
        ("k3_s2_p0_odd", [1, 3, 9, 9], 2, [3, 3], [2, 2], [0, 0], [1, 1], 1, False),
        ("k1_s1_p0", [2, 5, 4, 4], 3, [1, 1], [1, 1], [0, 0], [1, 1], 1, True),
        ("k1_s2_p0_nobias", [2, 4, 7, 7], 6, [1, 1], [2, 2], [0, 0], [1, 1], 1, False),
        ("k4_s4_p0_patch", [2, 3, 8, 8], 5, [4, 4], [4, 4], [0, 0], [1, 1], 1, True),
        ("k7_s2_p3_stem", [1, 3, 12, 12], 4, [7, 7], [2, 2], [3, 3], [1, 1], 1, False),
        ("k7_s1_p2", [1, 2, 9, 9], 3, [7, 7], [1, 1], [2, 2], [1, 1], 1, True),
        ("k3_s1_p2", [1, 2, 5, 5], 3, [3, 3], [1, 1], [2, 2], [1, 1], 1, True),
        ("groups2_k3_s1_p1", [2, 4, 7, 7], 6, [3, 3], [1, 1], [1, 1], [1, 1], 2, True),
        ("groups2_k1_s2_p0", [1, 4, 6, 6], 4, [1, 1], [2, 2], [0, 0], [1, 1], 2, False),
        ("depthwise_k3_s1_p1", [2, 4, 6, 6], 4, [3, 3], [1, 1], [1, 1], [1, 1], 4, True),
        ("depthwise_k3_s2_p1_nobias", [1, 4, 7, 7], 4, [3, 3], [2, 2], [1, 1], [1, 1], 4, False),
        ("depthwise_mult2_k3", [1, 3, 5, 5], 6, [3, 3], [1, 1], [1, 1], [1, 1], 3, True),
        ("dilation2_k3_p2", [1, 3, 9, 9], 4, [3, 3], [1, 1], [2, 2], [2, 2], 1, True),
        ("dilation2_k3_s2_p1", [2, 2, 10, 10], 3, [3, 3], [2, 2], [1, 1], [2, 2], 1, False),
        ("dilation2_depthwise", [1, 4, 8, 8], 4, [3, 3], [1, 1], [2, 2], [2, 2], 4, True),
        ("asym_k1x3_s1x2_p0x1", [1, 2, 5, 7], 3, [1, 3], [1, 2], [0, 1], [1, 1], 1, True),
        ("asym_k3x1_s2x1_p1x0_d2x1", [1, 2, 9, 6], 2, [3, 1], [2, 1], [1, 0], [2, 1], 1, False),
    ]
    for name, xs, cout, k, s, p, d, g, bias in specs:
        x = c.uniform(xs)
        w = c.uniform([cout, xs[1] // g, k[0], k[1]])
        inputs = {"x": x, "weight": w}
        b = None
        if bias:
            b = c.uniform([cout])
            inputs["bias"] = b
        y = F.conv2d(t(x), t(w), None if b is None else t(b), stride=s, padding=p, dilation=d, groups=g)
        c.add(f"conv2d_{name}", "conv2d", {"stride": s, "padding": p, "dilation": d, "groups": g}, inputs, y)


def _pool(c: CaseList) -> None:
    for name, xs, k, s, p in [("k3_s2_p1", [2, 3, 8, 8], [3, 3], [2, 2], [1, 1]),
                              ("k3_s2_p1_odd", [1, 2, 7, 7], [3, 3], [2, 2], [1, 1]),
                              ("k2_s2", [2, 3, 8, 8], [2, 2], [2, 2], [0, 0]),
                              ("k2_s2_odd", [1, 2, 5, 5], [2, 2], [2, 2], [0, 0])]:
        x = c.uniform(xs, -2, 2)
        if name == "k3_s2_p1":
            x[0, 0, 0, :4] = -5.0  # negative border values: zero padding must not win (pad is -inf)
        c.add(f"max_pool2d_{name}", "max_pool2d", {"kernel": k, "stride": s, "padding": p, "ceilMode": False},
              {"x": x}, F.max_pool2d(t(x), k, s, p))

    for name, xs, k, s, p in [("k2_s2", [2, 3, 8, 8], [2, 2], [2, 2], [0, 0]),
                              ("k3_s1_p1", [2, 3, 5, 5], [3, 3], [1, 1], [1, 1]),
                              ("k3_s2_p1", [1, 2, 7, 7], [3, 3], [2, 2], [1, 1])]:
        x = c.uniform(xs, -2, 2)
        attrs = {"kernel": k, "stride": s, "padding": p, "ceilMode": False, "countIncludePad": True}
        c.add(f"avg_pool2d_{name}", "avg_pool2d", attrs, {"x": x},
              F.avg_pool2d(t(x), k, s, p, ceil_mode=False, count_include_pad=True))

    for name, xs, o in [("1x1", [2, 3, 5, 5], [1, 1]), ("2x2_from_4x4", [1, 3, 4, 4], [2, 2]),
                        ("3x3_from_7x7", [1, 2, 7, 7], [3, 3])]:
        x = c.uniform(xs, -2, 2)
        c.add(f"adaptive_avg_pool2d_{name}", "adaptive_avg_pool2d", {"outputSize": o}, {"x": x},
              F.adaptive_avg_pool2d(t(x), o))
    x = c.uniform([2, 4, 3, 5], -2, 2)
    c.add("global_avg_pool2d", "global_avg_pool2d", {}, {"x": x}, t(x).mean(dim=(2, 3)))  # [N, C]


def _norms(c: CaseList) -> None:
    for eps in (1e-6, 1e-5):
        x = c.normal([2, 5, 8], 2.0) + 0.5
        w, b = 1 + c.uniform([8], -0.3, 0.3), c.uniform([8], -0.2, 0.2)
        c.add(f"layer_norm_eps{eps:g}", "layer_norm", {"eps": eps, "axis": -1}, {"x": x, "weight": w, "bias": b},
              F.layer_norm(t(x), [8], t(w), t(b), eps))
    x = c.normal([3, 4], 1e-3)  # tiny variance: eps matters
    w, b = 1 + c.uniform([4], -0.3, 0.3), c.uniform([4], -0.2, 0.2)
    c.add("layer_norm_small_var", "layer_norm", {"eps": 1e-6, "axis": -1}, {"x": x, "weight": w, "bias": b},
          F.layer_norm(t(x), [4], t(w), t(b), 1e-6))

    eps = 1e-5
    x = c.normal([2, 4, 5, 5], 1.5) + 0.3
    w, b = 1 + c.uniform([4], -0.3, 0.3), c.uniform([4], -0.2, 0.2)
    rm, rv = c.uniform([4], -0.5, 0.5), c.uniform([4], 0.5, 2.0)
    c.add("batch_norm_eval", "batch_norm",
          {"eps": eps, "training": False},
          {"x": x, "weight": w, "bias": b, "runningMean": rm, "runningVar": rv},
          F.batch_norm(t(x), t(rm), t(rv), t(w), t(b), training=False, eps=eps))

    for name, xs in [("batch_norm_train", [3, 4, 5, 5]), ("batch_norm_train_n1", [1, 3, 4, 4])]:
        x = c.normal(xs, 1.5) + c.uniform([1, xs[1], 1, 1], -1, 1)
        w, b = 1 + c.uniform([xs[1]], -0.3, 0.3), c.uniform([xs[1]], -0.2, 0.2)
        y = F.batch_norm(t(x), None, None, t(w), t(b), training=True, momentum=0.0, eps=eps)
        xt = t(x)
        c.add(name, "batch_norm", {"eps": eps, "training": True}, {"x": x, "weight": w, "bias": b},
              {"y": y,
               "mean": xt.mean(dim=(0, 2, 3)),
               "biasedVar": xt.var(dim=(0, 2, 3), unbiased=False),    # what normalisation uses
               "unbiasedVar": xt.var(dim=(0, 2, 3), unbiased=True)})  # what running_var update uses


def _softmax(c: CaseList) -> None:
    for axis in (-1, 1):
        x = c.normal([2, 3, 5], 2.0)
        c.add(f"softmax_axis{axis}", "softmax", {"axis": axis}, {"x": x}, F.softmax(t(x), dim=axis))
        c.add(f"log_softmax_axis{axis}", "log_softmax", {"axis": axis}, {"x": x}, F.log_softmax(t(x), dim=axis))
    x = c.normal([2, 6], 30.0)  # large logits: needs max subtraction
    c.add("softmax_large", "softmax", {"axis": -1}, {"x": x}, F.softmax(t(x), dim=-1))
    c.add("log_softmax_large", "log_softmax", {"axis": -1}, {"x": x}, F.log_softmax(t(x), dim=-1))


def _reductions(c: CaseList) -> None:
    x = c.normal([2, 3, 4, 5]) + 0.25
    axes_list = [[1], [2, 3], [0, 2], [-1], [0, 1, 2, 3]]
    for axes in axes_list:
        tag = "all" if len(axes) == 4 else "_".join(str(a).replace("-", "m") for a in axes)
        for keep in (False, True):
            kd = "_keep" if keep else ""
            xt = t(x)
            c.add(f"sum_{tag}{kd}", "sum", {"axes": axes, "keepDims": keep}, {"x": x},
                  xt.sum(dim=axes, keepdim=keep))
            c.add(f"mean_{tag}{kd}", "mean", {"axes": axes, "keepDims": keep}, {"x": x},
                  xt.mean(dim=axes, keepdim=keep))
            for unb in (True, False):
                u = "_unbiased" if unb else "_biased"
                attrs = {"axes": axes, "keepDims": keep, "unbiased": unb}
                c.add(f"var_{tag}{kd}{u}", "var", attrs, {"x": x}, xt.var(dim=axes, unbiased=unb, keepdim=keep))
                c.add(f"std_{tag}{kd}{u}", "std", attrs, {"x": x}, xt.std(dim=axes, unbiased=unb, keepdim=keep))

    for name, xs, axis in [("argmax_2d_last", [3, 7], -1), ("argmax_3d_axis1", [2, 5, 4], 1),
                           ("argmax_4d_axis0", [3, 2, 2, 2], 0)]:
        x = c.normal(xs)
        c.add(name, "argmax", {"axis": axis, "keepDims": False}, {"x": x}, torch.argmax(t(x), dim=axis))
    for name, xs, axis, keep in [("max_axis_last", [3, 6], -1, False), ("max_axis1_keep", [2, 4, 3], 1, True)]:
        x = c.normal(xs)
        v, i = torch.max(t(x), dim=axis, keepdim=keep)
        c.add(name, "max", {"axis": axis, "keepDims": keep}, {"x": x}, {"values": v, "indices": i})


def _movement(c: CaseList) -> None:
    for perm in ([0, 2, 3, 1], [0, 2, 1, 3], [3, 2, 1, 0]):
        x = c.uniform([2, 3, 4, 5])
        c.add("permute_" + "".join(map(str, perm)), "permute", {"perm": perm}, {"x": x}, t(x).permute(*perm))

    # slice attrs: per-dim begin/end/step (end exclusive, clamped to the dim size, like Python slicing).
    x = c.uniform([2, 4, 8, 8])
    c.add("slice_step2_even", "slice", {"begin": [0, 0, 0, 0], "end": [2, 4, 8, 8], "step": [1, 1, 2, 2]},
          {"x": x}, t(x)[:, :, ::2, ::2])
    x = c.uniform([1, 3, 7, 7])
    c.add("slice_step2_odd", "slice", {"begin": [0, 0, 0, 0], "end": [1, 3, 7, 7], "step": [1, 1, 2, 2]},
          {"x": x}, t(x)[:, :, ::2, ::2])
    x = c.uniform([2, 5, 6])
    c.add("slice_offset", "slice", {"begin": [0, 1, 1], "end": [2, 4, 6], "step": [1, 1, 2]},
          {"x": x}, t(x)[:, 1:4, 1::2])
    x = c.uniform([3, 5, 4])
    c.add("slice_cls_token", "slice", {"begin": [0, 0, 0], "end": [3, 1, 4], "step": [1, 1, 1]},
          {"x": x}, t(x)[:, 0:1, :])

    for name, shapes, axis in [("cat_axis1", [[2, 3, 4], [2, 1, 4], [2, 2, 4]], 1),
                               ("cat_axis0", [[1, 5], [2, 5]], 0),
                               ("cat_axis_last", [[2, 2, 3], [2, 2, 2]], -1)]:
        xs = [c.uniform(s) for s in shapes]
        c.add(name, "cat", {"axis": axis}, {f"x{i}": x for i, x in enumerate(xs)},
              torch.cat([t(x) for x in xs], dim=axis))

    # pad attrs: per-dim [before, after] zero padding (torch F.pad lists dims last-first; this is first-last).
    for name, xs, p in [("pad_channels", [2, 4, 4, 4], 2), ("pad_channels_odd_hw", [1, 2, 3, 5], 1)]:
        x = c.uniform(xs)
        c.add(name, "pad", {"pads": [[0, 0], [p, p], [0, 0], [0, 0]], "value": 0},
              {"x": x}, F.pad(t(x), (0, 0, 0, 0, p, p), "constant", 0))
    x = c.uniform([1, 2, 3, 3])
    c.add("pad_spatial", "pad", {"pads": [[0, 0], [0, 0], [1, 2], [2, 0]], "value": 0},
          {"x": x}, F.pad(t(x), (2, 0, 1, 2), "constant", 0))


def make_op_cases(seed: int = 1234) -> list[dict]:
    c = CaseList(seed)
    _elementwise(c)
    _matmul(c)
    _conv(c)
    _pool(c)
    _norms(c)
    _softmax(c)
    _reductions(c)
    _movement(c)
    return c.cases
