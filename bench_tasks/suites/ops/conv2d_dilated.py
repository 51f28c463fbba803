"""Dilated 2D convolution (3x3, dilation 2, padding 2, stride 1) with bias over an NCHW batch."""

import torch
import torch.nn as nn

CATEGORY = "conv"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=17, height=31, width=45),
    dict(batch=3, in_channels=33, out_channels=7, height=1, width=67),
    dict(batch=2, in_channels=5, out_channels=64, height=3, width=2),
]

SCALES = {"gpu": dict(batch=64, in_channels=256, out_channels=256, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 40),
        out_channels=rng.randint(1, 40),
        height=rng.randint(1, 40),
        width=rng.randint(1, 40),
    )


class Model(nn.Module):
    """y[b, o, i, j] = bias[o]
        + sum_{c, 0 <= p < 3, 0 <= q < 3} weight[o, c, p, q] * x[b, c, i + 2p - 2, j + 2q - 2],
    with x taken as 0 outside the image; the output keeps (height, width)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=2, dilation=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs(batch=4, in_channels=32, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs(in_channels=32, out_channels=32):
    return [in_channels, out_channels]
