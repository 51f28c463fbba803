"""Layer normalization over the last dimension of a (batch, dim) matrix, with weight and bias."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "norm"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1000, dim=33),
    dict(batch=1, dim=5),
]

SCALES = {"gpu": dict(batch=32768, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(2, 5000))


class Model(nn.Module):
    """mu = mean_j x[b, j];  var = mean_j (x[b, j] - mu)^2 (biased);
    y[b, j] = (x[b, j] - mu) / sqrt(var + eps) * weight[j] + bias[j]."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(dim))
        self.bias = nn.Parameter(torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


def get_inputs(batch=256, dim=4096):
    return [torch.randn(batch, dim) * 2 + torch.randn(batch, 1) * 3]


def get_init_inputs(dim=4096, eps=1e-5):
    return [dim, eps]
