"""GELU (erf form) of a matrix plus a per-column bias; input and bias gradients are checked too."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"
BACKWARD = True

CONFIGS = [
    dict(batch=7, dim=1001),
    dict(batch=1, dim=65537),
    dict(batch=3000, dim=3),
]

SCALES = {"gpu": dict(batch=8192, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 4000))


class Model(nn.Module):
    """y[i, j] = gelu(x[i, j] + bias[j]), gelu(z) = 0.5 z (1 + erf(z / sqrt(2)));
    dx = dy * gelu'(x + bias), dbias[j] = sum_i dx[i, j]."""

    def __init__(self, dim: int):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x + self.bias)


def get_inputs(batch=256, dim=2048):
    return [torch.randn(batch, dim) * 3]


def get_init_inputs(dim=2048):
    return [dim]
