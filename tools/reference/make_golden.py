"""Writes every golden fixture under test/golden/ from PyTorch (float32, CPU).

Run from the repo root with Debian's torch 1.13:   /usr/bin/python3 tools/reference/make_golden.py
Optional: --only det,ops,tiny,big   --out DIR.  Deterministic: seeded numpy generator, det weights, 1 thread.
What each fixture holds: tools/reference/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import model_cases  # noqa: E402
from detweights import det_hash_at, det_rule, det_tensor_values, det_uniform_at, fnv1a32  # noqa: E402
from goldenio import write_json  # noqa: E402
from ops_cases import make_op_cases  # noqa: E402

MAX_FILE_BYTES = 1_500_000
MAX_TOTAL_BYTES = 6_000_000


def det_fixture() -> dict:
    """Python-computed detweights values that test/golden/detweights.test.ts must reproduce exactly."""
    specs = [
        ("conv1.weight", [16, 3, 3, 3]),
        ("bn1.weight", [16]),
        ("bn1.bias", [16]),
        ("layer1.0.bn1.running_mean", [16]),
        ("layer1.0.bn1.running_var", [16]),
        ("linear.weight", [10, 64]),
        ("linear.bias", [10]),
        ("cls_token", [1, 1, 32]),
        ("pos_embed", [1, 17, 32]),
        ("blocks.0.attn.qkv.weight", [96, 32]),
        ("patch_embed.proj.weight", [768, 3, 16, 16]),
        ("fc.weight", [1000, 2048]),
        ("layer4.2.bn3.num_batches_tracked", []),
        ("input", [2, 3, 224, 224]),
        ("π-tëst/名前", [5, 7]),  # multi-byte UTF-8
    ]
    rng = np.random.default_rng(7)
    cases = []
    for name, shape in specs:
        rule = det_rule(name, shape)
        n = int(np.prod(shape)) if shape else 1
        idx = sorted({0, 1, 2, n - 1, n // 2} | {int(i) for i in rng.integers(0, n, size=5)})
        case = {"name": name, "shape": shape, "seed": fnv1a32(name)}
        if rule is None:
            case["skip"] = True
        else:
            vals = det_tensor_values(name, shape).reshape(-1)
            case.update({
                "offset": rule[0], "scale": rule[1], "indices": idx,
                "hash": [int(h) for h in det_hash_at(case["seed"], np.array(idx, dtype=np.uint64))],
                "u": [float(u) for u in det_uniform_at(name, np.array(idx, dtype=np.uint64))],
                "values": [float(vals[i]) for i in idx],
                "sum": float(np.cumsum(vals.astype(np.float64))[-1]),  # sequential float64 sum (cumsum is not pairwise)
            })
            if n <= 512:
                case["all"] = [float(v) for v in vals]
        cases.append(case)
    # Indices beyond any real tensor, to pin the (i + 1) mod 2^32 wrap and the uint32 products.
    far_idx = [2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1]
    far = {"name": "far.weight", "seed": fnv1a32("far.weight"), "indices": far_idx,
           "hash": [int(h) for h in det_hash_at(fnv1a32("far.weight"), np.array(far_idx, dtype=np.uint64))],
           "u": [float(u) for u in det_uniform_at("far.weight", np.array(far_idx, dtype=np.uint64))]}
    return {"fnvEmpty": fnv1a32(""), "cases": cases, "far": far}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="test/golden")
    ap.add_argument("--only", default="det,ops,tiny,big", help="comma list of: det, ops, tiny, big")
    args = ap.parse_args()
    parts = set(args.only.split(","))

    torch.manual_seed(0)
    torch.set_num_threads(1)
    meta = {"generator": "tools/reference/make_golden.py", "torch": torch.__version__}

    jobs = []
    if "det" in parts:
        jobs.append(("detweights.json", det_fixture))
    if "ops" in parts:
        jobs.append(("ops.json", lambda: {"cases": make_op_cases()}))
    if "tiny" in parts:
        jobs.append(("cifar_resnet_tiny.json", model_cases.cifar_resnet_tiny))
        jobs.append(("vit_tiny.json", model_cases.vit_tiny))
    if "big" in parts:
        jobs.append(("tv_resnet18.json", lambda: model_cases.tv_resnet("resnet18", 64)))
        jobs.append(("tv_resnet50.json", lambda: model_cases.tv_resnet("resnet50", 224)))
        jobs.append(("vit_b16.json", model_cases.vit_b16))

    t_all = time.perf_counter()
    for fname, fn in jobs:
        t0 = time.perf_counter()
        obj = {**meta, **fn()}
        size = write_json(os.path.join(args.out, fname), obj)
        assert size < MAX_FILE_BYTES, f"{fname}: {size} bytes"
        print(f"{fname:24s} {size / 1e3:9.1f} kB  {time.perf_counter() - t0:6.1f} s", flush=True)

    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out) if f.endswith(".json"))
    assert total < MAX_TOTAL_BYTES, f"total {total} bytes"
    print(f"total {total / 1e3:.1f} kB in {time.perf_counter() - t_all:.1f} s")


if __name__ == "__main__":
    main()
