"""Bias add, exact GELU, then multiplication by a gate tensor (a GEGLU-style epilogue)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, dim=1000),
    dict(batch=1, dim=4097),
    dict(batch=2049, dim=3),
]

SCALES = {"gpu": dict(batch=32768, dim=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 128), dim=rng.randint(1, 1000))


class Model(nn.Module):
    """y = gelu(x + bias) * gate, gelu(t) = 0.5 * t * (1 + erf(t / sqrt(2)));
    x and gate (batch, dim), bias (dim,)."""

    def __init__(self, dim: int):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(dim))

    def forward(self, x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        return F.gelu(x + self.bias) * gate


def get_inputs(batch=1024, dim=1024):
    return [torch.randn(batch, dim) * 3, torch.randn(batch, dim) * 2]


def get_init_inputs(dim=1024):
    return [dim]
