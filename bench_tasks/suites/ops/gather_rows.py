"""Gather along dim 1: torch.gather(x, 1, idx) of a (batch, n) matrix by (batch, k) int64 idx."""

import torch
import torch.nn as nn

CATEGORY = "index"

CONFIGS = [
    dict(batch=3, n=1001, k=4097),
    dict(batch=257, n=1, k=33),
    dict(batch=1, n=50000, k=7),
]

SCALES = {"gpu": dict(batch=16384, n=16384, k=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), n=rng.randint(1, 3000), k=rng.randint(1, 3000))


class Model(nn.Module):
    """y[b, j] = x[b, idx[b, j]] for idx of shape (batch, k) with 0 <= idx < n (repeats allowed)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return torch.gather(x, 1, idx)


def get_inputs(batch=256, n=4096, k=1024):
    x = torch.randn(batch, n)
    idx = torch.randint(0, n, (batch, k))
    return [x, idx]


def get_init_inputs():
    return []
