"""Square linear layer, then SiLU, then the input added back as a residual."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, dim=100),
    dict(batch=1, dim=257),
    dict(batch=300, dim=7),
]

SCALES = {"gpu": dict(batch=8192, dim=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 300))


class Model(nn.Module):
    """y = x + silu(x @ weight^T + bias), silu(t) = t * sigmoid(t); weight is (dim, dim)."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.silu(self.linear(x))


def get_inputs(batch=256, dim=512):
    return [torch.randn(batch, dim) * 3]


def get_init_inputs(dim=512):
    return [dim]
