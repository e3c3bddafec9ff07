"""Reference models in plain PyTorch, with the exact tensor names of their upstream implementations.

- CifarResNet: akamaster/pytorch_resnet_cifar10 resnet.py (He et al. 2016, CIFAR variant, option-A shortcut).
- VisionTransformer: timm vision_transformer.py (Dosovitskiy et al. 2020), the subset used by vit_*_patch*
  (pre-norm blocks, fused qkv, exact erf GELU, class-token pooling, no dropout at eval).
Both take a `bn_batch_stats` / feature-capture path that the golden generator needs; the default forward is the
upstream one.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------------------------
# CIFAR ResNet (akamaster)


def _bn(m: nn.BatchNorm2d, x: torch.Tensor, batch_stats: bool) -> torch.Tensor:
    """BatchNorm2d; batch_stats=True normalises with the batch mean and BIASED batch variance (train-mode math)
    without touching the running buffers."""
    if batch_stats:
        return F.batch_norm(x, None, None, m.weight, m.bias, training=True, momentum=0.0, eps=m.eps)
    return F.batch_norm(x, m.running_mean, m.running_var, m.weight, m.bias, training=False, eps=m.eps)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.planes = planes
        self.downsample = stride != 1 or in_planes != planes

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if not self.downsample:
            return x
        # Option A: subsample spatially, zero-pad planes//4 channels on each side.
        p = self.planes // 4
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p), "constant", 0)

    def forward(self, x: torch.Tensor, batch_stats: bool = False) -> torch.Tensor:
        out = F.relu(_bn(self.bn1, self.conv1(x), batch_stats))
        out = _bn(self.bn2, self.conv2(out), batch_stats)
        out = out + self.shortcut(x)
        return F.relu(out)


class CifarResNet(nn.Module):
    def __init__(self, depth: int = 20, num_classes: int = 10):
        super().__init__()
        assert (depth - 2) % 6 == 0, "depth must be 6n+2"
        n = (depth - 2) // 6
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, n, 1)
        self.layer2 = self._make_layer(32, n, 2)
        self.layer3 = self._make_layer(64, n, 2)
        self.linear = nn.Linear(64, num_classes)

    def _make_layer(self, planes: int, n: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward_with_features(self, x: torch.Tensor, batch_stats: bool = False):
        feats = {}
        stem = self.conv1(x)
        feats["stem"] = stem  # conv output, before bn1
        out = F.relu(_bn(self.bn1, stem, batch_stats))
        for k, layer in enumerate([self.layer1, self.layer2, self.layer3], start=1):
            for block in layer:
                out = block(out, batch_stats)
            feats[f"stage{k}"] = out.mean(dim=(2, 3))  # [N, C] global average pool
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        logits = self.linear(out)
        return logits, feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_features(x)[0]


# ----------------------------------------------------------------------------------------------------------------
# timm VisionTransformer


class PatchEmbed(nn.Module):
    def __init__(self, img_size: int, patch: int, in_chans: int, dim: int):
        super().__init__()
        self.num_patches = (img_size // patch) ** 2
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, C, H', W'] -> [B, T, D]


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        qkv = self.qkv(x).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each [B, H, T, d]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, T, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact erf GELU
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, eps: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class VisionTransformer(nn.Module):
    def __init__(self, img_size=224, patch=16, in_chans=3, num_classes=1000, dim=768, depth=12, heads=12,
                 mlp_ratio=4.0, eps=1e-6):
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch, in_chans, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.head = nn.Linear(dim, num_classes)

    def forward_with_features(self, x: torch.Tensor):
        feats = {}
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self.pos_embed
        feats["patchEmbed"] = x[:, 1:]  # [N, T, D], CLS excluded
        cls = []
        depth = len(self.blocks)
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            nxt = self.blocks[i + 1].norm1 if i + 1 < depth else self.norm
            cls.append(nxt(x[:, 0]))  # CLS after block i, through the next LayerNorm
        feats["cls"] = torch.stack(cls, dim=1)  # [N, depth, D]
        x = self.norm(x)
        logits = self.head(x[:, 0])
        return logits, feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_features(x)[0]
