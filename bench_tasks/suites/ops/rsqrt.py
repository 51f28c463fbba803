"""Reciprocal square root of a strictly positive (batch, dim) matrix."""

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
    """y = 1 / sqrt(x), elementwise (x > 0)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.rsqrt(x)


def get_inputs(batch=256, dim=2048):
    # Strictly positive, in [0.05, 4.05): y ranges from about 0.5 to 4.5.
    return [torch.rand(batch, dim) * 4 + 0.05]


def get_init_inputs():
    return []
