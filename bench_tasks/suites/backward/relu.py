"""ReLU over a (batch, dim) matrix, with the input gradient checked too (forward and backward)."""

import torch
import torch.nn as nn

CATEGORY = "activation"
BACKWARD = True

CONFIGS = [
    dict(batch=7, dim=1001),
    dict(batch=1, dim=65537),
    dict(batch=3000, dim=3),
]

SCALES = {"gpu": dict(batch=8192, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 4000))


class Model(nn.Module):
    """y = max(x, 0) elementwise; dx = dy * (x > 0)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def get_inputs(batch=256, dim=2048):
    return [torch.randn(batch, dim) * 3]


def get_init_inputs():
    return []
