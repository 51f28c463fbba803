"""1D convolution (stride 1, no padding) with bias."""

import torch
import torch.nn as nn

CATEGORY = "conv"

CONFIGS = [
    dict(in_channels=3, out_channels=7, kernel_size=3, length=100),
    dict(batch=2, kernel_size=1),
]


def sample_config(rng):
    kernel_size = rng.randint(1, 7)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 20),
        out_channels=rng.randint(1, 20),
        kernel_size=kernel_size,
        length=rng.randint(kernel_size, 400),
    )


class Model(nn.Module):
    """y[b, o, i] = bias[o] + sum_{c, j} weight[o, c, j] * x[b, c, i + j]."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs(batch=8, in_channels=16, length=512):
    return [torch.randn(batch, in_channels, length)]


def get_init_inputs(in_channels=16, out_channels=32, kernel_size=5):
    return [in_channels, out_channels, kernel_size]
