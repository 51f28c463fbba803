"""Layer normalization over the last dimension of a (batch, features) matrix."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "norm"

CONFIGS = [
    dict(batch=7, features=4097),
    dict(batch=300, features=33),
]


def sample_config(rng):
    return dict(batch=rng.randint(1, 200), features=rng.randint(2, 3000))


class Model(nn.Module):
    """y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias, statistics per row (biased var)."""

    def __init__(self, features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


def get_inputs(batch=128, features=1024):
    return [torch.randn(batch, features)]


def get_init_inputs(features=1024):
    return [features]
