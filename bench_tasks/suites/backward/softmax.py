"""Softmax along the last dimension of a (batch, dim) matrix; the input gradient is checked too."""

import torch
import torch.nn as nn

CATEGORY = "activation"
BACKWARD = True
# Outputs and gradients are about 1 / dim, so the absolute tolerance must sit far below that.
ATOL = 1e-6

CONFIGS = [
    dict(batch=7, dim=4097),
    dict(batch=1000, dim=33),
    dict(batch=5, dim=2),
]

SCALES = {"gpu": dict(batch=65536, dim=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 200), dim=rng.randint(2, 3000))


class Model(nn.Module):
    """y[i, j] = exp(x[i, j]) / sum_k exp(x[i, k]);
    dx[i, j] = y[i, j] * (dy[i, j] - sum_k dy[i, k] * y[i, k])."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


def get_inputs(batch=256, dim=1024):
    return [torch.randn(batch, dim) * 2]


def get_init_inputs():
    return []
