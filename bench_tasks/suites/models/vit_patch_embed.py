"""ViT patch embedding: patchifying conv, class token, learned position embedding, LayerNorm."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=3, channels=3, height=37, width=53, patch=8, dim=96),
    dict(batch=1, channels=1, height=16, width=16, patch=16, dim=64),
    dict(batch=2, channels=5, height=30, width=9, patch=3, dim=17),
]

SCALES = {"gpu": dict(batch=256, channels=3, height=224, width=224, patch=16, dim=768)}


def sample_config(rng):
    patch = rng.randint(1, 8)
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 4),
        height=rng.randint(patch, 48),
        width=rng.randint(patch, 48),
        patch=patch,
        dim=rng.randint(2, 96),
    )


class Model(nn.Module):
    """x (batch, channels, height, width); gh, gw = height // patch, width // patch (trailing
    pixels dropped). p[b, i * gw + j, :] = conv_bias + sum_{c, u, v} conv_weight[:, c, u, v] *
    x[b, c, i * patch + u, j * patch + v]; t = concat([cls_token, p], dim=1) + pos_embed
    (1 + gh * gw tokens, class token first); y = LayerNorm over dim: (t - mean) / sqrt(var +
    1e-6) * weight + bias with the biased variance. y has shape (batch, 1 + gh * gw, dim)."""

    def __init__(self, channels: int, height: int, width: int, patch: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        tokens = 1 + (height // patch) * (width // patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.5)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        nn.init.normal_(self.norm.weight, 1.0, 0.2)
        nn.init.normal_(self.norm.bias, 0.0, 0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.proj(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        t = torch.cat([cls, p], dim=1) + self.pos_embed
        return F.layer_norm(t, (t.shape[-1],), self.norm.weight, self.norm.bias, self.norm.eps)


def get_inputs(batch=16, channels=3, height=96, width=96):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs(channels=3, height=96, width=96, patch=8, dim=256):
    return [channels, height, width, patch, dim]
