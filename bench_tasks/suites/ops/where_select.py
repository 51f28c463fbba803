"""Select x where x > 0, else y, over two (batch, dim) matrices."""

import torch
import torch.nn as nn

CATEGORY = "math"

CONFIGS = [
    dict(batch=1, dim=4099),
    dict(batch=3, dim=37),
    dict(batch=1000, dim=129),
]

SCALES = {"gpu": dict(batch=16384, dim=16384)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 4096))


class Model(nn.Module):
    """out = x if x > 0 else y, elementwise."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.where(x > 0, x, y)


def get_inputs(batch=256, dim=2048):
    return [torch.randn(batch, dim), torch.randn(batch, dim) * 3]


def get_init_inputs():
    return []
