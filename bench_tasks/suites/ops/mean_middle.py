"""Mean over the middle dimension of a (batch, length, dim) tensor."""

import torch
import torch.nn as nn

CATEGORY = "reduce"

CONFIGS = [
    dict(batch=3, length=1000, dim=33),
    dict(batch=5, length=1, dim=129),
    dict(batch=2, length=4097, dim=1),
]

SCALES = {"gpu": dict(batch=64, length=4096, dim=1024)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 8), length=rng.randint(1, 1000), dim=rng.randint(1, 100))


class Model(nn.Module):
    """y[b, d] = (1 / length) * sum_l x[b, l, d]; output shape (batch, dim)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mean(x, dim=1)


def get_inputs(batch=16, length=256, dim=256):
    return [torch.randn(batch, length, dim) * 2 + 0.5]


def get_init_inputs():
    return []
