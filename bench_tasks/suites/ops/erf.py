"""Gauss error function of a (batch, dim) matrix, elementwise."""

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
    """y = erf(x) = 2 / sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.erf(x)


def get_inputs(batch=256, dim=2048):
    # Scale 1.5 covers the linear part near 0 and the saturated tails beyond |x| ~ 3.
    return [torch.randn(batch, dim) * 1.5]


def get_init_inputs():
    return []
