"""Sort each row of a (batch, n) matrix in ascending order (values only)."""

import torch
import torch.nn as nn

CATEGORY = "index"

CONFIGS = [
    dict(batch=3, n=1001),
    dict(batch=257, n=1),
    dict(batch=1, n=50000),
    dict(batch=129, n=2),
]

SCALES = {"gpu": dict(batch=65536, n=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), n=rng.randint(1, 3000))


class Model(nn.Module):
    """y[b, :] = the values of x[b, :] sorted in ascending order (equal values repeated)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sort(x, dim=-1).values


def get_inputs(batch=256, n=4096):
    return [torch.randn(batch, n)]


def get_init_inputs():
    return []
