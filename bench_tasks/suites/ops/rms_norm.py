"""RMS normalization over the last dimension of a (batch, dim) matrix, with a weight."""

import torch
import torch.nn as nn

CATEGORY = "norm"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1000, dim=33),
    dict(batch=1, dim=1),
]

SCALES = {"gpu": dict(batch=32768, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 5000))


class Model(nn.Module):
    """y[b, j] = x[b, j] * rsqrt(mean_i x[b, i]^2 + eps) * weight[j]."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ms = torch.mean(x * x, dim=-1, keepdim=True)
        return x * torch.rsqrt(ms + self.eps) * self.weight


def get_inputs(batch=256, dim=4096):
    # Rows of very different magnitudes.
    return [torch.randn(batch, dim) * torch.exp(torch.randn(batch, 1) * 2)]


def get_init_inputs(dim=4096, eps=1e-6):
    return [dim, eps]
