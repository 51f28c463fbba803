"""Fill masked positions of a (batch, heads, length) tensor with -1.5, the mask shared by heads."""

import torch
import torch.nn as nn

CATEGORY = "broadcast"

CONFIGS = [
    dict(batch=1, heads=3, length=4099),
    dict(batch=2, heads=1, length=37),
    dict(batch=7, heads=12, length=129),
]

SCALES = {"gpu": dict(batch=256, heads=16, length=65536)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 8), heads=rng.randint(1, 16), length=rng.randint(1, 2048))


class Model(nn.Module):
    """y[b, h, l] = -1.5 if mask[b, 0, l] else x[b, h, l]; x float (batch, heads, length),
    mask bool (batch, 1, length)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x.masked_fill(mask, -1.5)


def get_inputs(batch=16, heads=16, length=2048):
    x = torch.randn(batch, heads, length)
    mask = torch.rand(batch, 1, length) < 0.3
    return [x, mask]


def get_init_inputs():
    return []
