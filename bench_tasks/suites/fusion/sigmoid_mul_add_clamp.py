"""Elementwise clamp(x * sigmoid(g) + z, lo, hi) over three same-shape tensors."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, dim=1000),
    dict(batch=1, dim=4097, lo=-0.5, hi=2.0),
    dict(batch=2049, dim=3),
]

SCALES = {"gpu": dict(batch=32768, dim=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 128), dim=rng.randint(1, 1000))


class Model(nn.Module):
    """y = clamp(x * sigmoid(g) + z, lo, hi), sigmoid(t) = 1 / (1 + exp(-t));
    x, g, z and y are (batch, dim); lo = -1, hi = 1 by default."""

    def __init__(self, lo: float, hi: float):
        super().__init__()
        self.lo, self.hi = lo, hi

    def forward(self, x: torch.Tensor, g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x * torch.sigmoid(g) + z, self.lo, self.hi)


def get_inputs(batch=1024, dim=1024):
    return [torch.randn(batch, dim) * 2, torch.randn(batch, dim) * 3, torch.randn(batch, dim) * 0.5]


def get_init_inputs(lo=-1.0, hi=1.0):
    return [lo, hi]
