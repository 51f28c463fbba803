"""1D max pooling over a (batch, channels, length) tensor, no padding."""

import torch
import torch.nn as nn

CATEGORY = "pooling"

CONFIGS = [
    dict(kernel_size=3, stride=1, length=999),
    dict(kernel_size=5, stride=3, channels=7),
]


def sample_config(rng):
    kernel_size = rng.randint(1, 7)
    return dict(
        kernel_size=kernel_size,
        stride=rng.randint(1, kernel_size),
        batch=rng.randint(1, 8),
        channels=rng.randint(1, 40),
        length=rng.randint(kernel_size, 1500),
    )


class Model(nn.Module):
    """y[b, c, i] = max_{0 <= j < kernel_size} x[b, c, i * stride + j]."""

    def __init__(self, kernel_size: int, stride: int):
        super().__init__()
        self.pool = nn.MaxPool1d(kernel_size=kernel_size, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs(batch=16, channels=32, length=1024):
    return [torch.randn(batch, channels, length)]


def get_init_inputs(kernel_size=4, stride=2):
    return [kernel_size, stride]
