"""Log-sum-exp over the last dimension of a (batch, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "reduce"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1000, dim=1),
    dict(batch=1, dim=12345),
]

SCALES = {"gpu": dict(batch=32768, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 5000))


class Model(nn.Module):
    """y[b] = log(sum_j exp(x[b, j])), computed stably as
    m + log(sum_j exp(x[b, j] - m)) with m = max_j x[b, j]; output shape (batch,)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(x, dim=-1)


def get_inputs(batch=256, dim=4096):
    # Large logits (up to ~100) so a kernel without the max subtraction overflows.
    return [torch.randn(batch, dim) * 3 + torch.randn(batch, 1) * 30]


def get_init_inputs():
    return []
