"""Gated linear unit over the last dimension of a (batch, dim) matrix, dim even."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "activation"

CONFIGS = [
    dict(batch=1, dim=8198),
    dict(batch=3, dim=2),
    dict(batch=1000, dim=74),
]

SCALES = {"gpu": dict(batch=16384, dim=16384)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=2 * rng.randint(1, 2048))


class Model(nn.Module):
    """With h = dim / 2, a = x[:, :h], b = x[:, h:]: y = a * sigmoid(b), y of shape (batch, h)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.glu(x, dim=-1)


def get_inputs(batch=256, dim=4096):
    return [torch.randn(batch, dim) * 3]


def get_init_inputs():
    return []
