"""Model goldens: tiny and full-size ResNet / ViT with deterministic weights (detweights.py), float32, eval mode.

Inputs are det tensors named "input" (offset 0, scale 1) of shape [N, C, H, W]; weights are det tensors named by
their state_dict key. Nothing here is trained: the goldens check the forward pass, not accuracy.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torchvision

from detweights import det_input, load_det_weights
from goldenio import garr
from models import CifarResNet, VisionTransformer


def param_list(model: torch.nn.Module) -> list[dict]:
    """state_dict order, float tensors only (num_batches_tracked left out)."""
    return [{"name": k, "shape": list(v.shape)} for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")]


def _input(shape) -> torch.Tensor:
    return torch.from_numpy(det_input(shape))


def cifar_resnet_tiny() -> dict:
    cfg = {"kind": "cifar_resnet", "depth": 8, "blocks": [1, 1, 1], "widths": [16, 32, 64], "shortcut": "A",
           "imgSize": 16, "inChans": 3, "numClasses": 10, "eps": 1e-5}
    model = CifarResNet(depth=cfg["depth"], num_classes=cfg["numClasses"]).eval()
    n_values = load_det_weights(model)
    in_shape = [3, 3, cfg["imgSize"], cfg["imgSize"]]
    x = _input(in_shape)
    with torch.no_grad():
        logits, feats = model.forward_with_features(x)
        logits_bs, _ = model.forward_with_features(x, batch_stats=True)
        assert torch.equal(logits, model(x))
    return {
        "config": cfg,
        "input": {"name": "input", "shape": in_shape},
        "numParamValues": n_values,
        "params": param_list(model),
        "logits": garr(logits),
        "features": {k: garr(feats[k]) for k in ("stem", "stage1", "stage2", "stage3")},
        "logitsBatchStats": garr(logits_bs),
    }


def _override_norms(model: VisionTransformer, block: int, weight_scale: float, bias_shift: float) -> None:
    """norm1/norm2 of one block: weight <- f32(weight * s), bias <- f32(bias + f32(shift)), in float32."""
    with torch.no_grad():
        for norm in (model.blocks[block].norm1, model.blocks[block].norm2):
            w = norm.weight.detach().numpy()
            b = norm.bias.detach().numpy()
            norm.weight.copy_(torch.from_numpy((w * np.float32(weight_scale)).astype(np.float32)))
            norm.bias.copy_(torch.from_numpy((b + np.float32(bias_shift)).astype(np.float32)))


def vit_tiny() -> dict:
    cfg = {"kind": "vit", "imgSize": 16, "patch": 4, "inChans": 3, "dim": 32, "depth": 3, "heads": 2,
           "mlpRatio": 4, "eps": 1e-6, "numClasses": 10}
    model = VisionTransformer(img_size=cfg["imgSize"], patch=cfg["patch"], in_chans=cfg["inChans"],
                              num_classes=cfg["numClasses"], dim=cfg["dim"], depth=cfg["depth"],
                              heads=cfg["heads"], mlp_ratio=cfg["mlpRatio"], eps=cfg["eps"]).eval()
    n_values = load_det_weights(model)
    in_shape = [3, cfg["inChans"], cfg["imgSize"], cfg["imgSize"]]
    x = _input(in_shape)
    override = {"block": 1, "norms": ["norm1", "norm2"], "weightScale": 1.5, "biasShift": 0.1}
    with torch.no_grad():
        logits, feats = model.forward_with_features(x)
        assert torch.equal(logits, model(x))
        m2 = copy.deepcopy(model)
        _override_norms(m2, override["block"], override["weightScale"], override["biasShift"])
        logits_ov = m2(x)
    return {
        "config": cfg,
        "input": {"name": "input", "shape": in_shape},
        "numParamValues": n_values,
        "params": param_list(model),
        "logits": garr(logits),
        "features": {"patchEmbed": garr(feats["patchEmbed"]), "cls": garr(feats["cls"])},
        "override": override,
        "logitsOverride": garr(logits_ov),
    }


def _big(model: torch.nn.Module, cfg: dict, batch: int = 2) -> dict:
    model.eval()
    n_values = load_det_weights(model)
    in_shape = [batch, 3, cfg["imgSize"], cfg["imgSize"]]
    x = _input(in_shape)
    with torch.no_grad():
        logits = model(x)
    return {
        "config": cfg,
        "input": {"name": "input", "shape": in_shape},
        "numParamValues": n_values,
        "params": param_list(model),
        "logits": garr(logits),
        "maxAbsLogit": float(logits.abs().max()),
    }


def tv_resnet(arch: str, img_size: int) -> dict:
    model = getattr(torchvision.models, arch)(weights=None)
    cfg = {"kind": "tv_resnet", "arch": arch, "imgSize": img_size, "inChans": 3, "numClasses": 1000, "eps": 1e-5}
    return _big(model, cfg)


def vit_b16() -> dict:
    cfg = {"kind": "vit", "name": "vit_base_patch16_224", "imgSize": 224, "patch": 16, "inChans": 3, "dim": 768,
           "depth": 12, "heads": 12, "mlpRatio": 4, "eps": 1e-6, "numClasses": 1000}
    model = VisionTransformer(img_size=224, patch=16, in_chans=3, num_classes=1000, dim=768, depth=12, heads=12,
                              mlp_ratio=4, eps=1e-6)
    return _big(model, cfg)
