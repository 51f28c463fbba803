"""Matrix product with a weight, scaled by a constant, then softmax over the last dimension."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(m=33, k=100, n=70),
    dict(m=1, k=257, n=129, scale=1.5),
    dict(m=300, k=7, n=1000),
]

SCALES = {"gpu": dict(m=8192, k=4096, n=4096)}


def sample_config(rng):
    return dict(m=rng.randint(1, 64), k=rng.randint(1, 300), n=rng.randint(2, 300))


class Model(nn.Module):
    """s = (x @ weight^T) * scale;  y[i, j] = exp(s[i, j]) / sum_l exp(s[i, l]).
    x (m, k), weight (n, k), y (m, n); no bias."""

    def __init__(self, k: int, n: int, scale: float):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n, k) / k**0.5)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax((x @ self.weight.t()) * self.scale, dim=-1)


def get_inputs(m=256, k=512):
    return [torch.randn(m, k)]


def get_init_inputs(k=512, n=512, scale=2.5):
    return [k, n, scale]
