"""PyTorch reference of one ZOA step and of the domain-knowledge bank, written from docs/zoa-method.md (sections
2-7), for the golden fixtures test/golden/zoa_step_resnet.json, zoa_step_vit.json and zoa_bank.json.

Run from the repo root with Debian's torch 1.13:   /usr/bin/python3 tools/reference/zoa_step.py
Deterministic (det weights, det inputs, one thread); a few seconds on one CPU.

Models: the tiny CIFAR ResNet-8 and tiny ViT of model_cases.py (16x16 inputs, det weights), float32, CPU.

Step fixtures (one per model). With v = thetaTilde (no slots yet, so alpha is neither perturbed nor updated):
  source stats  per-dim mean and unbiased std over the clean "source" batch of the loss features (spec 4),
                through the source model (theta0); ResNet BNs there use their stored running statistics
                (the deployed source model in eval mode; the spec does not say, this matches the engine).
  clean pass    theta = theta0 + thetaTilde                         -> L2 = lambda * D + mean entropy
  perturbed     theta = theta0 + thetaTilde + c * u                 -> L1
  estimate      g_i = (L1 - L2) / (c * u_i)
  update        thetaTilde <- thetaTilde - lr * (g + wd * thetaTilde)
  Step 1 on batch "input" from thetaTilde = 0 with u from "perturbation"; step 2 on batch "input2" from the
  step-1 thetaTilde with u from "perturbation2" (so weight decay acts). ResNet: every BN normalises with the
  current batch's mean and biased variance in both passes (ZOA-ResNet, spec 2).
  The prediction of step 2 is activation-shifted (spec 7): head(f + (mu_S_final - hist)), hist = batch mean of
  step 1's clean head input (the EMA's first value); step 1 predicts the plain clean logits.

Bank fixture: the ViT's adapted layers, two slots Delta_1, Delta_2 (det values), alpha = [0, 0.3, -0.2],
  theta = theta0 + sum_j softmax(10 alpha)_j Delta_j + thetaTilde (spec 3), then a save (spec 6 steps 2-5):
  r = max over layers of max(mean|thetaTilde_w|, mean|thetaTilde_b|) / 0.01,
  a_new = clip(max(max_j 10 alpha_j, log(sum_j exp(10 alpha_j) (r - 1)) [r > 1 only]) / 10, -10, 10),
  Delta_new = theta - theta0, and thetaTilde re-solved so theta is unchanged.

Dtypes (as in the engine): network forward, features, logits, theta, thetaTilde, u, c*u, Delta, alpha: float32.
Loss reductions (moments, MSE, entropy), L1, L2, g, softmax(10 alpha), r: float64. Sums that build a theta or
a thetaTilde (theta0 + fused + thetaTilde + c*u, the SGD step, the re-solve) are done in float64 from float32
operands and rounded to float32 once.

Det values: value = float32(offset + scale * u(name, i)) with u from detweights.py; every input and slot says its
(name, shape, offset, scale) in the fixture. Perturbations: a = u("perturbation", i) in [-1, 1),
u_i = float32(sign(a) * (0.5 + 0.5 |a|)) (sign(0) = +1): u_i in +-[0.5, 1], laid out layer by layer in the
engine's order, each layer weight [C] then bias [C].
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from detweights import det_uniform, det_values_with, load_det_weights  # noqa: E402
from goldenio import garr, write_json  # noqa: E402
from models import CifarResNet, VisionTransformer  # noqa: E402

MAX_FILE_BYTES = 200_000
F32 = np.float32
F64 = np.float64


def det_spec(name: str, shape, offset: float = 0.0, scale: float = 1.0) -> dict:
    return {"name": name, "shape": list(shape), "offset": offset, "scale": scale}


def det_array(spec: dict) -> np.ndarray:
    return det_values_with(spec["name"], tuple(spec["shape"]), spec["offset"], spec["scale"])


def perturbation(name: str, n: int) -> np.ndarray:
    a = det_uniform(name, n)
    return (np.where(a < 0, -1.0, 1.0) * (0.5 + 0.5 * np.abs(a))).astype(F32)


# ---- models and the adapted layers (spec 2) ---------------------------------------------------------------------


class TinyCase:
    """A tiny model with its adapted norm layers; forward(x, thetas) runs it with those layers' affine
    parameters replaced by thetas = [(weight [C], bias [C]) float32 per layer]."""

    def __init__(self, kind: str):
        self.kind = kind
        if kind == "resnet":
            self.model = CifarResNet(depth=8, num_classes=10).eval()
            # BasicBlock CIFAR ResNet: bn1/bn2 of every block except the first block of stage 1 and every block
            # of the last stage. Depth 8 has one block per stage: layer2.0 only.
            stages = [self.model.layer1, self.model.layer2, self.model.layer3]
            names = []
            for s, layer in enumerate(stages, start=1):
                for b in range(len(layer)):
                    if (s == 1 and b == 0) or s == len(stages):
                        continue
                    names += [f"layer{s}.{b}.bn1", f"layer{s}.{b}.bn2"]
        else:
            self.model = VisionTransformer(img_size=16, patch=4, in_chans=3, num_classes=10, dim=32, depth=3,
                                           heads=2, mlp_ratio=4, eps=1e-6).eval()
            depth = len(self.model.blocks)
            last = -(-3 * depth // 4) - 1  # ceil(3d/4) - 1
            names = [f"blocks.{i}.{n}" for i in range(1, last + 1) for n in ("norm1", "norm2")]
        load_det_weights(self.model)
        self.names = names
        mods = dict(self.model.named_modules())
        self.modules = [mods[n] for n in names]
        self.theta0 = [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in self.modules]
        self.channels = [int(w.shape[0]) for w, _ in self.theta0]

    @torch.no_grad()
    def forward(self, x: np.ndarray, thetas=None, batch_stats: bool | None = None) -> dict:
        if thetas is not None:
            for m, (w, b) in zip(self.modules, thetas):
                m.weight.copy_(torch.from_numpy(np.asarray(w, F32)))
                m.bias.copy_(torch.from_numpy(np.asarray(b, F32)))
        try:
            xt = torch.from_numpy(x)
            if self.kind == "resnet":
                bs = True if batch_stats is None else batch_stats
                logits, feats = self.model.forward_with_features(xt, batch_stats=bs)
                groups = [feats[f"stage{k}"] for k in (1, 2, 3)]
                final = feats["stage3"]  # the pooled last stage is the head input
                embed = feats["stem"]
            else:
                logits, feats = self.model.forward_with_features(xt)
                cls = feats["cls"]  # [N, depth, D]
                groups = [cls.reshape(cls.shape[0], -1)]
                final = cls[:, -1]  # final-norm CLS token: the head input
                embed = feats["patchEmbed"]
            return {"logits": logits.numpy(), "groups": [g.numpy() for g in groups], "final": final.numpy(),
                    "embed": embed.numpy()}
        finally:
            if thetas is not None:
                for m, (w, b) in zip(self.modules, self.theta0):
                    m.weight.copy_(torch.from_numpy(w))
                    m.bias.copy_(torch.from_numpy(b))

    @torch.no_grad()
    def head(self, final: np.ndarray) -> np.ndarray:
        lin = self.model.linear if self.kind == "resnet" else self.model.head
        return lin(torch.from_numpy(final)).numpy()


# ---- loss (spec 4) ----------------------------------------------------------------------------------------------


def moments(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dim mean and unbiased std over the batch, float64."""
    g = g.astype(F64)
    return g.mean(axis=0), g.std(axis=0, ddof=1)


def discrepancy(groups, source) -> float:
    """D = average over groups of MSE(std, std_S) + MSE(mean, mean_S)."""
    d = 0.0
    for g, (mu_s, sd_s) in zip(groups, source):
        mu, sd = moments(g)
        d += float(np.mean((sd - sd_s) ** 2) + np.mean((mu - mu_s) ** 2))
    return d / len(groups)


def mean_entropy(logits: np.ndarray) -> float:
    z = torch.from_numpy(logits.astype(F64))
    lp = F.log_softmax(z, dim=1)
    return float((-(lp.exp() * lp).sum(dim=1)).mean())


def loss(out: dict, source, lam: float) -> dict:
    d = discrepancy(out["groups"], source)
    h = mean_entropy(out["logits"])
    return {"loss": lam * d + h, "D": d, "entropy": h}


# ---- shift-detector distance (spec 6), reported for the second batch ---------------------------------------------


def embed_stats(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = e.astype(F64)
    axes = (0, 1) if e.ndim == 3 else (0, 2, 3)
    return e.mean(axis=axes), e.var(axis=axes, ddof=1)


def sym_kl(md, vd, mc, vc) -> float:
    dm2 = (md - mc) ** 2
    return float(np.mean((vd + dm2) / (2 * vc + 1e-8) + (vc + dm2) / (2 * vd + 1e-8) - 1))


# ---- one ZOA step (spec 5) --------------------------------------------------------------------------------------


def split_layers(flat: np.ndarray, channels) -> list[np.ndarray]:
    out, k = [], 0
    for c in channels:
        out.append(flat[k:k + 2 * c])
        k += 2 * c
    return out


def thetas_of(case: TinyCase, tilde, extra=None):
    """float32(theta0 + thetaTilde [+ extra]) per layer, summed in float64."""
    res = []
    for l, (w0, b0) in enumerate(case.theta0):
        C = case.channels[l]
        t = tilde[l].astype(F64) + (extra[l].astype(F64) if extra is not None else 0.0)
        res.append(((w0.astype(F64) + t[:C]).astype(F32), (b0.astype(F64) + t[C:]).astype(F32)))
    return res


def zoa_step(case: TinyCase, source, cfg: dict, x: np.ndarray, tilde, u: np.ndarray) -> dict:
    clean = case.forward(x, thetas_of(case, tilde))
    l2 = loss(clean, source, cfg["lambda"])
    cu = (F64(cfg["c"]) * u.astype(F64)).astype(F32)  # the perturbation step c*u, float32
    pert = case.forward(x, thetas_of(case, tilde, split_layers(cu, case.channels)))
    l1 = loss(pert, source, cfg["lambda"])
    g = (l1["loss"] - l2["loss"]) / (cfg["c"] * u.astype(F64))  # float64
    t_flat = np.concatenate(tilde).astype(F64)
    new = (t_flat - cfg["lr"] * (g + cfg["weightDecay"] * t_flat)).astype(F32)
    return {"clean": clean, "L2": l2, "L1": l1, "g": g, "tilde": split_layers(new, case.channels)}


def source_stats(case: TinyCase, xs: np.ndarray):
    out = case.forward(xs, None, batch_stats=False)
    stats = [moments(g) for g in out["groups"]]
    final_mean = out["final"].astype(F64).mean(axis=0).astype(F32)
    return stats, final_mean


def step_fixture(kind: str) -> dict:
    case = TinyCase(kind)
    vit = kind == "vit"
    cfg = {"lambda": 30.0 if vit else 1.0, "c": 0.02 if vit else 0.01, "lr": 0.005 if vit else 0.1,
           "weightDecay": 0.4}
    src_spec = det_spec("source", [64, 3, 16, 16], 0.0, 0.5)
    stats, final_mean = source_stats(case, det_array(src_spec))
    n = sum(2 * c for c in case.channels)
    tilde = [np.zeros(2 * c, F32) for c in case.channels]
    steps = []
    hist = None
    prev_embed = None
    for inp, pname in (("input", "perturbation"), ("input2", "perturbation2")):
        spec = det_spec(inp, [64, 3, 16, 16], 0.0, 1.0)
        x = det_array(spec)
        u = perturbation(pname, n)
        r = zoa_step(case, stats, cfg, x, tilde, u)
        clean = r["clean"]
        if hist is None:
            prediction = clean["logits"]
        else:  # activation shifting: head(f + (mu_S - hist)), float32
            prediction = case.head((clean["final"] + (final_mean - hist)).astype(F32))
        em, ev = embed_stats(clean["embed"])
        step = {
            "input": spec,
            "perturbation": {"name": pname, "u": garr(u)},
            "L2": r["L2"]["loss"], "D2": r["L2"]["D"], "entropy2": r["L2"]["entropy"],
            "L1": r["L1"]["loss"], "D1": r["L1"]["D"], "entropy1": r["L1"]["entropy"],
            "tildeBefore": [garr(t) for t in tilde],
            "tildeAfter": [garr(t) for t in r["tilde"]],
            "prediction": garr(prediction),
            "activationShifted": hist is not None,
            # symmetric KL of this batch's embedding statistics against the previous batch's (the detector's
            # running statistic after one batch); must stay below the threshold so no slot is saved.
            "detectorDistance": None if prev_embed is None else sym_kl(*prev_embed, em, ev),
        }
        steps.append(step)
        prev_embed = (em, ev)
        tilde = r["tilde"]
        hist = clean["final"].astype(F64).mean(axis=0).astype(F32)
    return {
        "model": "tinyResNet (CIFAR ResNet-8, 16x16, det weights)" if not vit else
                 "tinyViT (16x16, patch 4, dim 32, depth 3, heads 2, det weights)",
        "config": {**cfg, "threshold": 0.1 if vit else 0.2},
        "layers": [{"name": nm, "channels": c} for nm, c in zip(case.names, case.channels)],
        "source": src_spec,
        "sourceStats": {
            "groups": [{"mean": [float(v) for v in m], "std": [float(v) for v in s]} for m, s in stats],
            "finalMean": garr(final_mean),
        },
        "steps": steps,
    }


# ---- bank (spec 3 and 6) ----------------------------------------------------------------------------------------


S = 10.0
SCALE_UNIT = 0.01


def softmax64(alpha) -> np.ndarray:
    z = S * np.asarray(alpha, F64)
    e = np.exp(z - z.max())
    return e / e.sum()


def fused_theta(theta0, slots, alpha, tilde, channels):
    """float32(theta0 + sum_j w_j Delta_j + thetaTilde) per layer [2C] (Delta_0 = 0), float64 sum."""
    w = softmax64(alpha)
    out = []
    for l, (w0, b0) in enumerate(theta0):
        f = sum(w[j + 1] * slots[j][l].astype(F64) for j in range(len(slots)))
        base = np.concatenate([w0, b0]).astype(F64)
        out.append((base + f + tilde[l].astype(F64)).astype(F32))
    return out


def save_slot(theta0, slots, alpha, tilde, channels):
    r = 0.0
    for l, c in enumerate(channels):
        t = tilde[l].astype(F64)
        r = max(r, np.abs(t[:c]).mean() / SCALE_UNIT, np.abs(t[c:]).mean() / SCALE_UNIT)
    z = S * np.asarray(alpha, F64)
    a_new = z.max()
    if r > 1:
        lse = z.max() + np.log(np.exp(z - z.max()).sum())
        a_new = max(a_new, lse + np.log(r - 1))
    a_new = float(F32(min(10.0, max(-10.0, a_new / S))))
    w = softmax64(alpha)
    targets = [sum((w[j + 1] * slots[j][l].astype(F64) for j in range(len(slots))), np.zeros(2 * c)) +
               tilde[l].astype(F64) for l, c in enumerate(channels)]
    new_slots = slots + [[t.astype(F32) for t in targets]]
    new_alpha = list(alpha) + [a_new]
    w2 = softmax64(new_alpha)
    new_tilde = []
    for l, c in enumerate(channels):
        f = sum(w2[j + 1] * new_slots[j][l].astype(F64) for j in range(len(new_slots)))
        new_tilde.append((targets[l] - f).astype(F32))
    return {"r": float(r), "aNew": a_new, "alpha": new_alpha, "weights": w2, "slots": new_slots,
            "tilde": new_tilde}


def bank_fixture() -> dict:
    case = TinyCase("vit")
    ch = case.channels
    alpha = [0.0, 0.3, -0.2]
    alpha = [float(F32(a)) for a in alpha]
    slot_specs = [[det_spec(f"slot{j}.{nm}", [2 * c], 0.0, 0.05) for nm, c in zip(case.names, ch)] for j in (1, 2)]
    slots = [[det_array(s) for s in specs] for specs in slot_specs]
    cases = []
    for label, scale in (("log", 0.05), ("max", 0.01)):
        t_specs = [det_spec(f"tilde.{label}.{nm}", [2 * c], 0.0, scale) for nm, c in zip(case.names, ch)]
        tilde = [det_array(s) for s in t_specs]
        theta = fused_theta(case.theta0, slots, alpha, tilde, ch)
        sv = save_slot(case.theta0, slots, alpha, tilde, ch)
        theta_after = fused_theta(case.theta0, sv["slots"], sv["alpha"], sv["tilde"], ch)
        cases.append({
            "label": label,
            "tilde": t_specs,
            "theta": [garr(t) for t in theta],
            "save": {
                "r": sv["r"], "aNew": sv["aNew"], "alpha": sv["alpha"],
                "weights": [float(v) for v in sv["weights"]],
                "delta": [garr(d) for d in sv["slots"][-1]],
                "tilde": [garr(t) for t in sv["tilde"]],
                "theta": [garr(t) for t in theta_after],
            },
        })
    return {
        "model": "tinyViT adapted layers (theta0 = det weights)",
        "s": S,
        "layers": [{"name": nm, "channels": c} for nm, c in zip(case.names, ch)],
        "alpha": alpha,
        "weights": [float(v) for v in softmax64(alpha)],
        "slots": slot_specs,
        "cases": cases,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="test/golden")
    args = ap.parse_args()
    torch.set_num_threads(1)
    meta = {"generator": "tools/reference/zoa_step.py", "torch": torch.__version__}
    for fname, fn in (("zoa_step_resnet.json", lambda: step_fixture("resnet")),
                      ("zoa_step_vit.json", lambda: step_fixture("vit")),
                      ("zoa_bank.json", bank_fixture)):
        size = write_json(os.path.join(args.out, fname), {**meta, **fn()})
        assert size < MAX_FILE_BYTES, f"{fname}: {size} bytes"
        print(f"{fname:22s} {size / 1e3:7.1f} kB", flush=True)


if __name__ == "__main__":
    main()
