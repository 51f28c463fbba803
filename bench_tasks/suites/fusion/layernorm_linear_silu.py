"""Layer normalization of the input rows, then a linear layer, then SiLU."""

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
        in_features=rng.randint(2, 300),
        out_features=rng.randint(1, 300),
    )


class Model(nn.Module):
    """n = (x - mean(x)) / sqrt(var(x) + eps) * ln_weight + ln_bias (per row, biased var);
    y = silu(n @ weight^T + bias), silu(t) = t * sigmoid(t); x (batch, in_features)."""

    def __init__(self, in_features: int, out_features: int, eps: float):
        super().__init__()
        self.ln_weight = nn.Parameter(1 + 0.5 * torch.randn(in_features))
        self.ln_bias = nn.Parameter(0.5 * torch.randn(in_features))
        self.linear = nn.Linear(in_features, out_features)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = F.layer_norm(x, (x.shape[-1],), self.ln_weight, self.ln_bias, self.eps)
        return F.silu(self.linear(n))


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 3 + 1]


def get_init_inputs(in_features=512, out_features=512, eps=1e-5):
    return [in_features, out_features, eps]
