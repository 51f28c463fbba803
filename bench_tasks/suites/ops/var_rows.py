"""Unbiased variance over the last dimension of a (batch, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "reduce"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1000, dim=2),
    dict(batch=1, dim=12345),
]

SCALES = {"gpu": dict(batch=32768, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(2, 5000))


class Model(nn.Module):
    """y[b] = sum_j (x[b, j] - mean_b)^2 / (dim - 1), mean_b = (1 / dim) * sum_j x[b, j];
    output shape (batch,)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.var(x, dim=-1, correction=1)


def get_inputs(batch=256, dim=4096):
    # Rows with different spreads and large offsets (a one-pass E[x^2] - E[x]^2 loses precision).
    scale = torch.rand(batch, 1) * 3 + 0.1
    offset = torch.randn(batch, 1) * 20
    return [torch.randn(batch, dim) * scale + offset]


def get_init_inputs():
    return []
