"""Transposed 2D convolution (4x4, stride 2, padding 1: exactly 2x upsampling) with bias, NCHW."""

import torch
import torch.nn as nn

CATEGORY = "conv"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=17, height=31, width=45),
    dict(batch=3, in_channels=33, out_channels=7, height=1, width=29),
    dict(batch=2, in_channels=5, out_channels=40, height=13, width=1),
]

SCALES = {"gpu": dict(batch=32, in_channels=256, out_channels=128, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 40),
        out_channels=rng.randint(1, 40),
        height=rng.randint(1, 24),
        width=rng.randint(1, 24),
    )


class Model(nn.Module):
    """y[b, o, i, j] = bias[o] + sum of x[b, c, ih, iw] * weight[c, o, p, q] over all c, ih, iw and
    0 <= p, q < 4 with i = 2 * ih - 1 + p and j = 2 * iw - 1 + q (weight is
    (in_channels, out_channels, 4, 4));
    output size (2 * height, 2 * width)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size=4, stride=2, padding=1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs(batch=4, in_channels=32, height=24, width=24):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs(in_channels=32, out_channels=16):
    return [in_channels, out_channels]
