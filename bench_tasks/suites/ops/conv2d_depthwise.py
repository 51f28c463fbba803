"""Depthwise 2D convolution (3x3, stride 1, padding 1, groups=channels) with bias, NCHW."""

import torch
import torch.nn as nn

CATEGORY = "conv"

CONFIGS = [
    dict(batch=1, channels=3, height=31, width=45),
    dict(batch=3, channels=129, height=1, width=67),
    dict(batch=2, channels=1, height=17, width=2),
]

SCALES = {"gpu": dict(batch=64, channels=256, height=112, width=112)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 96),
        height=rng.randint(1, 48),
        width=rng.randint(1, 48),
    )


class Model(nn.Module):
    """y[b, c, i, j] = bias[c]
        + sum_{0 <= p < 3, 0 <= q < 3} weight[c, 0, p, q] * x[b, c, i + p - 1, j + q - 1],
    each channel filtered on its own, with x taken as 0 outside the image; the output keeps
    (channels, height, width)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1, groups=channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs(batch=4, channels=64, height=64, width=64):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs(channels=64):
    return [channels]
