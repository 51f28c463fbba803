"""Scale each channel of a (batch, channels, height, width) tensor by a learned factor."""

import torch
import torch.nn as nn

CATEGORY = "broadcast"

CONFIGS = [
    dict(batch=1, channels=3, height=224, width=224),
    dict(batch=2, channels=1, height=7, width=5),
    dict(batch=3, channels=129, height=17, width=31),
]

SCALES = {"gpu": dict(batch=128, channels=128, height=128, width=128)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 64),
        height=rng.randint(1, 48),
        width=rng.randint(1, 48),
    )


class Model(nn.Module):
    """y[b, c, h, w] = x[b, c, h, w] * scale[c, 0, 0], scale of shape (channels, 1, 1)."""

    def __init__(self, channels: int):
        super().__init__()
        self.scale = nn.Parameter(torch.randn(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


def get_inputs(batch=8, channels=64, height=32, width=32):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs(channels=64):
    return [channels]
