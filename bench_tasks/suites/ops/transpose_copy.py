"""Batched transpose of the last two dimensions into a contiguous (batch, n, m) tensor."""

import torch
import torch.nn as nn

CATEGORY = "resize"

CONFIGS = [
    dict(batch=3, m=1, n=1001),
    dict(batch=1, m=1000, n=33),
    dict(batch=7, m=129, n=67),
]

SCALES = {"gpu": dict(batch=64, m=2048, n=2048)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 8), m=rng.randint(1, 400), n=rng.randint(1, 400))


class Model(nn.Module):
    """y[b, j, i] = x[b, i, j] for x of shape (batch, m, n); y is (batch, n, m), contiguous."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(-1, -2).contiguous()


def get_inputs(batch=8, m=384, n=320):
    return [torch.randn(batch, m, n)]


def get_init_inputs():
    return []
