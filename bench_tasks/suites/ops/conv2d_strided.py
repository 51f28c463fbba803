"""Strided 2D convolution (3x3, stride 2, padding 1) with bias over an NCHW batch."""

import torch
import torch.nn as nn

CATEGORY = "conv"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=17, height=33, width=45),
    dict(batch=3, in_channels=31, out_channels=7, height=1, width=66),
    dict(batch=2, in_channels=5, out_channels=64, height=14, width=2),
]

SCALES = {"gpu": dict(batch=64, in_channels=128, out_channels=256, height=112, width=112)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 40),
        out_channels=rng.randint(1, 40),
        height=rng.randint(1, 64),
        width=rng.randint(1, 64),
    )


class Model(nn.Module):
    """y[b, o, i, j] = bias[o]
        + sum_{c, 0 <= p < 3, 0 <= q < 3} weight[o, c, p, q] * x[b, c, 2i + p - 1, 2j + q - 1],
    with x taken as 0 outside the image; output size ((height + 1) // 2, (width + 1) // 2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs(batch=4, in_channels=32, height=48, width=48):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs(in_channels=32, out_channels=32):
    return [in_channels, out_channels]
