"""JSON writing for golden fixtures.

A GoldenArray is {"shape": [...], "data": [...flat, row-major...]} (plus "dtype": "int64" for index tensors).
Float data are float32 values; each is written as Python's repr of the float64 that equals it exactly, so
JSON.parse gives a double that already is the float32 value (Math.fround(x) === x).
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch


def garr(x) -> dict:
    """Tensor / ndarray -> GoldenArray (float32 unless integer-typed)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    shape = [int(s) for s in x.shape]
    if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
        return {"shape": shape, "dtype": "int64", "data": [int(v) for v in x.reshape(-1)]}
    flat = x.astype(np.float32).reshape(-1)
    return {"shape": shape, "data": [float(v) for v in flat]}


def write_json(path: str, obj) -> int:
    """Writes compact JSON (no spaces; NaN/Infinity rejected) and returns its size in bytes."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")
    return len(text) + 1
