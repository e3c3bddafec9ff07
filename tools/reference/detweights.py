"""Deterministic weights: every parameter value is a pure function of (tensor name, flat index).

Mirrors test/helpers/detweights.ts bit for bit, so large models need no committed weights:
    seed(name) = FNV-1a 32-bit over the UTF-8 bytes of name
    h(i)       = fmix32((((i + 1) mod 2^32) * 0x9E3779B1 + seed) mod 2^32)     (MurmurHash3 finalizer)
    u(i)       = h(i) / 2^32 * 2 - 1                                           (float64, in [-1, 1))
    value      = float32(scale * u + offset)                                   (float64 math, one rounding)
(offset, scale) come from det_rule(name, shape). All uint32 arithmetic is done in uint64 and masked.
"""

from __future__ import annotations

import math

import numpy as np

M32 = np.uint64(0xFFFFFFFF)
FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193
GOLDEN = 0x9E3779B1
C1 = 0x85EBCA6B
C2 = 0xC2B2AE35

INPUT_NAME = "input"


def fnv1a32(name: str) -> int:
    h = FNV_OFFSET
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 fmix32 on a uint64 array holding uint32 values."""
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(C1)) & M32
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(C2)) & M32
    h = h ^ (h >> np.uint64(16))
    return h


def det_hash_at(seed: int, idx: np.ndarray) -> np.ndarray:
    """h(i) for the given flat indices (any integer array, >= 0); returns uint64 values < 2^32."""
    i1 = (np.asarray(idx, dtype=np.uint64) + np.uint64(1)) & M32
    x = (i1 * np.uint64(GOLDEN)) & M32  # NOTE: both factors < 2^32, so the uint64 product cannot wrap
    x = (x + np.uint64(seed)) & M32
    return fmix32(x)


def det_uniform_at(name: str, idx: np.ndarray) -> np.ndarray:
    h = det_hash_at(fnv1a32(name), idx)
    return h.astype(np.float64) / 4294967296.0 * 2.0 - 1.0


def det_uniform(name: str, n: int) -> np.ndarray:
    """u(0..n-1) as float64."""
    return det_uniform_at(name, np.arange(n, dtype=np.uint64))


def det_rule(name: str, shape: tuple[int, ...] | list[int]) -> tuple[float, float] | None:
    """(offset, scale) for a tensor, or None for tensors that are not float parameters."""
    shape = tuple(int(s) for s in shape)
    if name == INPUT_NAME:
        return 0.0, 1.0
    if name.endswith("num_batches_tracked"):
        return None
    if name.endswith("running_var"):
        return 1.0, 0.5
    if name.endswith("running_mean"):
        return 0.0, 0.1
    if len(shape) == 1 and name.endswith("weight"):
        return 1.0, 0.1
    if len(shape) == 1 and name.endswith("bias"):
        return 0.0, 0.05
    if "cls_token" in name or "pos_embed" in name:
        return 0.0, 0.02
    fan_in = 1
    for s in shape[1:]:
        fan_in *= s
    return 0.0, math.sqrt(3.0 / fan_in)


def det_values_with(name: str, shape, offset: float, scale: float) -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    u = det_uniform(name, n)
    v = scale * u + offset  # float64, two separately rounded ops (no FMA), like the TS side
    return v.astype(np.float32).reshape(shape)


def det_tensor_values(name: str, shape) -> np.ndarray | None:
    rule = det_rule(name, shape)
    if rule is None:
        return None
    offset, scale = rule
    return det_values_with(name, tuple(shape), offset, scale)


def det_input(shape) -> np.ndarray:
    return det_tensor_values(INPUT_NAME, tuple(shape))


def load_det_weights(model) -> int:
    """Overwrite every float parameter/buffer of a torch module in place; returns the count of values set."""
    import torch

    total = 0
    with torch.no_grad():
        for name, t in model.state_dict().items():
            vals = det_tensor_values(name, tuple(t.shape))
            if vals is None:
                continue
            t.copy_(torch.from_numpy(vals))
            total += vals.size
    return total
