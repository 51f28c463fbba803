"""Sum over the last dimension of a (batch, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "reduce"

# Row sums are tens in size; a plain float32 running sum over thousands of terms can be off by
# ~2e-4, which the tolerance admits.
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
    """y[b] = sum_j x[b, j]; output shape (batch,)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x, dim=-1)


def get_inputs(batch=256, dim=4096):
    return [torch.randn(batch, dim)]


def get_init_inputs():
    return []
