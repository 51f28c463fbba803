"""Clamp a (batch, dim) matrix to [-0.5, 0.5]."""

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
    """y = min(max(x, -0.5), 0.5), elementwise."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x, -0.5, 0.5)


def get_inputs(batch=256, dim=2048):
    # Unit scale: about 40% of the values inside (-0.5, 0.5), the rest clipped on either side.
    return [torch.randn(batch, dim)]


def get_init_inputs():
    return []
