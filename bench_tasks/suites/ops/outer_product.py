"""Outer product of two vectors: an (m, n) matrix of a[i] * b[j]."""

import torch
import torch.nn as nn

CATEGORY = "broadcast"

CONFIGS = [
    dict(m=1, n=4099),
    dict(m=37, n=3),
    dict(m=1000, n=129),
]

SCALES = {"gpu": dict(m=16384, n=16384)}


def sample_config(rng):
    return dict(m=rng.randint(1, 512), n=rng.randint(1, 1024))


class Model(nn.Module):
    """y[i, j] = a[i] * b[j], a of shape (m,), b of shape (n,), y of shape (m, n)."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a[:, None] * b[None, :]


def get_inputs(m=512, n=1024):
    return [torch.randn(m), torch.randn(n)]


def get_init_inputs():
    return []
