"""Linear layer (GEMM plus bias), then exact GELU, then a learned per-feature bias added."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70),
    dict(batch=1, in_features=257, out_features=129),
    dict(batch=300, in_features=7, out_features=1000),
]

SCALES = {"gpu": dict(batch=8192, in_features=4096, out_features=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 64),
        in_features=rng.randint(1, 300),
        out_features=rng.randint(1, 300),
    )


class Model(nn.Module):
    """y = gelu(x @ weight^T + bias) + residual_bias, with the erf GELU
    gelu(t) = 0.5 * t * (1 + erf(t / sqrt(2))); residual_bias has shape (out_features,)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.residual_bias = nn.Parameter(torch.randn(out_features) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.linear(x)) + self.residual_bias


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 3]


def get_init_inputs(in_features=512, out_features=512):
    return [in_features, out_features]
