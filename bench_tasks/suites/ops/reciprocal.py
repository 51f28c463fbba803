"""Elementwise reciprocal of a (batch, dim) matrix bounded away from zero."""

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
    """y = 1 / x, elementwise (|x| >= 0.5)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.reciprocal(x)


def get_inputs(batch=256, dim=2048):
    # Both signs, |x| >= 0.5: y lies in [-2, 2].
    r = torch.randn(batch, dim) * 2
    return [torch.where(r >= 0, r + 0.5, r - 0.5)]


def get_init_inputs():
    return []
