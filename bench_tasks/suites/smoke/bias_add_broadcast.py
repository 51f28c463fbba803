"""Add a per-channel bias to a (batch, channels, length) tensor by broadcasting."""

import torch
import torch.nn as nn

CATEGORY = "broadcast"

CONFIGS = [
    dict(batch=3, channels=17, length=1000),
    dict(batch=1, channels=256, length=129),
]


def sample_config(rng):
    return dict(batch=rng.randint(1, 8), channels=rng.randint(1, 96), length=rng.randint(1, 2047))


class Model(nn.Module):
    """y[b, c, l] = x[b, c, l] + bias[c, 0]."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias


def get_inputs(batch=16, channels=64, length=1024):
    return [torch.randn(batch, channels, length)]


def get_init_inputs(channels=64):
    return [channels]
