"""Add a bias vector to every row of a (batch, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "broadcast"

CONFIGS = [
    dict(batch=1, dim=4099),
    dict(batch=3, dim=37),
    dict(batch=1000, dim=129),
]

SCALES = {"gpu": dict(batch=16384, dim=16384)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 4096))


class Model(nn.Module):
    """y[i, j] = x[i, j] + bias[j], bias of shape (dim,)."""

    def __init__(self, dim: int):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias


def get_inputs(batch=256, dim=2048):
    return [torch.randn(batch, dim)]


def get_init_inputs(dim=2048):
    return [dim]
