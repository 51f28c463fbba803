"""Elementwise exponential of a (batch, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "math"

CONFIGS = [
    dict(batch=1, dim=4099),
    dict(batch=3, dim=37),
    dict(batch=1000, dim=129),
]

SCALES = {"gpu": dict(batch=16384, dim=16384)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 4096))


class Model(nn.Module):
    """y = exp(x), elementwise."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)


def get_inputs(batch=256, dim=2048):
    # Scale 2 spans exp(-12)..exp(12) without overflow in float32.
    return [torch.randn(batch, dim) * 2]


def get_init_inputs():
    return []
