"""PyTorch CPU throughput of a zoa-ts checkpoint, the peer figure for `npm run bench`.

Usage: /usr/bin/python3 tools/reference/bench_torch.py MODEL.safetensors DATA.bin [--batch 64] [--runs 5] [--threads 1]
Prints one JSON line: {"imagesPerSecond": ..., "msPerBatch": ..., "threads": ..., "torch": ...}.
The model is built from tools/reference/models.py (the same definitions as the golden fixtures) and the
checkpoint is read with a minimal safetensors parser (no extra package).
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import CifarResNet, VisionTransformer  # noqa: E402

DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "I8": np.int8, "U8": np.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(raw[base + b:base + end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


def build(tensors, meta):
    if "patch_embed.proj.weight" in tensors:
        w = tensors["patch_embed.proj.weight"]
        dim, patch = w.shape[0], w.shape[2]
        depth = len({k.split(".")[1] for k in tensors if k.startswith("blocks.")})
        model = VisionTransformer(img_size=int(meta.get("img_size", 224)), patch=patch, num_classes=tensors["head.weight"].shape[0],
                                  dim=dim, depth=depth, heads=int(meta.get("num_heads", dim // 64)),
                                  mlp_ratio=float(meta.get("mlp_ratio", 4)), eps=float(meta.get("norm_eps", 1e-6)))
    else:
        n = len({k.split(".")[1] for k in tensors if k.startswith("layer1.")})
        model = CifarResNet(depth=6 * n + 2, num_classes=tensors["linear.weight"].shape[0])
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not [m for m in missing if not m.endswith("num_batches_tracked")], missing
    return model.eval()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    tensors, meta = read_safetensors(a.model)
    model = build(tensors, meta)
    mean = torch.tensor(json.loads(meta["mean"])).view(1, 3, 1, 1)
    std = torch.tensor(json.loads(meta["std"])).view(1, 3, 1, 1)
    raw = np.fromfile(a.data, dtype=np.uint8, count=3073 * a.batch).reshape(a.batch, 3073)
    x = torch.from_numpy(raw[:, 1:].reshape(a.batch, 3, 32, 32).astype(np.float32) / 255.0)
    x = (x - mean) / std
    times = []
    with torch.no_grad():
        for _ in range(2):
            model(x)
        for _ in range(a.runs):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    print(json.dumps({"imagesPerSecond": a.batch / (ms / 1000), "msPerBatch": ms, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
