"""Layer normalization over the last dimension; input, weight and bias gradients are checked too."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "norm"
BACKWARD = True

CONFIGS = [
    dict(batch=7, dim=4097),
    dict(batch=1000, dim=33),
    dict(batch=1, dim=3),
]

SCALES = {"gpu": dict(batch=32768, dim=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 200), dim=rng.randint(3, 3000))


class Model(nn.Module):
    """y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias, statistics per row (biased var);
    gradients for x, weight and bias."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(dim))
        self.bias = nn.Parameter(torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


def get_inputs(batch=256, dim=1024):
    return [torch.randn(batch, dim) * 2 + 0.5]


def get_init_inputs(dim=1024):
    return [dim]
