"""Elementwise tanh(a + b) * c * scale over three same-shape tensors."""

import torch
import torch.nn as nn

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
    """y = tanh(a + b) * c * scale (scale = 0.5 by default); a, b, c and y are (batch, dim)."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.tanh(a + b) * c * self.scale


def get_inputs(batch=1024, dim=1024):
    return [torch.randn(batch, dim) * 2, torch.randn(batch, dim), torch.randn(batch, dim) * 2]


def get_init_inputs(scale=0.5):
    return [scale]
