"""SwiGLU feed-forward block: two gate/up projections, SiLU gating, then a down projection."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, dim=100, hidden=70),
    dict(batch=1, dim=257, hidden=689),
    dict(batch=300, dim=8, hidden=3),
]

SCALES = {"gpu": dict(batch=8192, dim=4096, hidden=11008)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 200), hidden=rng.randint(1, 400))


class Model(nn.Module):
    """y = (silu(x @ w1^T) * (x @ w3^T)) @ w2^T, silu(t) = t * sigmoid(t); no biases.
    x (batch, dim), w1 and w3 (hidden, dim), w2 (dim, hidden), y (batch, dim)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def get_inputs(batch=256, dim=512):
    return [torch.randn(batch, dim) * 2]


def get_init_inputs(dim=512, hidden=1024):
    return [dim, hidden]
