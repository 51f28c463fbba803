"""RMS normalization over the last dimension, with gradients of the input and weight checked too."""

import torch
import torch.nn as nn

CATEGORY = "norm"
BACKWARD = True

CONFIGS = [
    dict(batch=7, dim=4097),
    dict(batch=1000, dim=33),
    dict(batch=1, dim=2),
]

SCALES = {"gpu": dict(batch=32768, dim=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 200), dim=rng.randint(2, 3000))


class Model(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * weight, the mean per row; gradients for x and weight."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return x * rms * self.weight


def get_inputs(batch=256, dim=1024):
    return [torch.randn(batch, dim) * 2]


def get_init_inputs(dim=1024):
    return [dim]
