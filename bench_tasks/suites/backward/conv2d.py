"""2D convolution (3x3, padding 1) with bias; input, weight and bias gradients are checked too."""

import torch
import torch.nn as nn

CATEGORY = "conv"
BACKWARD = True
# The weight gradient sums batch * height * width products per value: float32 misses float64
# by up to about 3e-4 there.
ATOL = 5e-4

CONFIGS = [
    dict(batch=3, in_channels=5, out_channels=7, height=17, width=23),
    dict(batch=1, in_channels=1, out_channels=64, height=9, width=1),
    dict(batch=2, in_channels=33, out_channels=3, height=1, width=31),
]

SCALES = {"gpu": dict(batch=32, in_channels=256, out_channels=256, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 24),
        out_channels=rng.randint(1, 24),
        height=rng.randint(1, 40),
        width=rng.randint(1, 40),
    )


class Model(nn.Module):
    """y[b, o, i, j] = bias[o] + sum_{c, p, q} weight[o, c, p, q] * x[b, c, i + p - 1, j + q - 1]
    (x zero outside the image); gradients for x, weight and bias."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs(batch=4, in_channels=16, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs(in_channels=16, out_channels=32):
    return [in_channels, out_channels]
