"""Cumulative sum along the last dimension of a (batch, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "reduce"

# A float32 running sum over thousands of elements is off by about 1e-4 where the partial sums
# cross zero; the tolerance admits a float32 scan, not a wrong one.
ATOL = 1e-3
RTOL = 1e-4

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1000, dim=1),
    dict(batch=1, dim=12345),
]

SCALES = {"gpu": dict(batch=32768, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 5000))


class Model(nn.Module):
    """y[b, j] = sum_{i <= j} x[b, i]; output shape (batch, dim)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(x, dim=-1)


def get_inputs(batch=256, dim=4096):
    return [torch.randn(batch, dim)]


def get_init_inputs():
    return []
