"""ELU (alpha 1.0) over a (batch, dim) matrix."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "activation"

CONFIGS = [
    dict(batch=1, dim=4099),
    dict(batch=3, dim=37),
    dict(batch=1000, dim=129),
]

SCALES = {"gpu": dict(batch=16384, dim=16384)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 4096))


class Model(nn.Module):
    """y = x if x > 0 else alpha * (exp(x) - 1), elementwise, alpha = 1.0."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(x, alpha=1.0)


def get_inputs(batch=256, dim=2048):
    return [torch.randn(batch, dim) * 3]


def get_init_inputs():
    return []
