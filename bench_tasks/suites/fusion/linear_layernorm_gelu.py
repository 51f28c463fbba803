"""Linear layer, then layer normalization over the output features, then exact GELU."""

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
        out_features=rng.randint(2, 300),
    )


class Model(nn.Module):
    """h = x @ weight^T + bias;
    n = (h - mean(h)) / sqrt(var(h) + eps) * ln_weight + ln_bias (per row, biased var);
    y = gelu(n) = 0.5 * n * (1 + erf(n / sqrt(2)))."""

    def __init__(self, in_features: int, out_features: int, eps: float):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.ln_weight = nn.Parameter(1 + 0.5 * torch.randn(out_features))
        self.ln_bias = nn.Parameter(0.5 * torch.randn(out_features))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x)
        n = F.layer_norm(h, (h.shape[-1],), self.ln_weight, self.ln_bias, self.eps)
        return F.gelu(n)


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 2]


def get_init_inputs(in_features=512, out_features=512, eps=1e-5):
    return [in_features, out_features, eps]
