"""Maximum value over the last dimension of a (batch, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "reduce"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1000, dim=1),
    dict(batch=1, dim=12345),
]

SCALES = {"gpu": dict(batch=32768, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 5000))


class Model(nn.Module):
    """y[b] = max_j x[b, j] (the values only); output shape (batch,)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.max(x, dim=-1).values


def get_inputs(batch=256, dim=4096):
    return [torch.randn(batch, dim) * 3]


def get_init_inputs():
    return []
