"""Index of the maximum over the last dimension of a (batch, dim) matrix (int64)."""

import torch
import torch.nn as nn

CATEGORY = "reduce"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1000, dim=3),
    dict(batch=1, dim=12345),
]

SCALES = {"gpu": dict(batch=32768, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(2, 64), dim=rng.randint(2, 5000))


class Model(nn.Module):
    """y[b] = argmax_j x[b, j] as int64, the first such j if the maximum repeats;
    output shape (batch,)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.argmax(x, dim=-1)


def get_inputs(batch=256, dim=4096):
    return [torch.randn(batch, dim)]


def get_init_inputs():
    return []
