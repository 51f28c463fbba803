"""Subtract a per-row value from every element of its row of a (batch, dim) matrix."""

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
    """y[i, j] = x[i, j] - v[i], x of shape (batch, dim), v of shape (batch,)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return x - v[:, None]


def get_inputs(batch=256, dim=2048):
    return [torch.randn(batch, dim), torch.randn(batch) * 3]


def get_init_inputs():
    return []
