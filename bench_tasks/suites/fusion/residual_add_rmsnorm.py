"""Residual add of two (batch, seq, dim) tensors, then RMS normalization over dim with a weight."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=3, seq=77, dim=129),
    dict(batch=1, seq=1, dim=4097),
    dict(batch=2, seq=999, dim=1),
]

SCALES = {"gpu": dict(batch=16, seq=2048, dim=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 4), seq=rng.randint(1, 50), dim=rng.randint(1, 1024))


class Model(nn.Module):
    """h = x + r;  y = h / sqrt(mean(h^2) + eps) * weight, the mean over the last dimension;
    weight has shape (dim,)."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.5 * torch.randn(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        h = x + r
        return h * torch.rsqrt(h.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight


def get_inputs(batch=4, seq=256, dim=1024):
    return [torch.randn(batch, seq, dim) * 2 + 0.5, torch.randn(batch, seq, dim)]


def get_init_inputs(dim=1024, eps=1e-6):
    return [dim, eps]
