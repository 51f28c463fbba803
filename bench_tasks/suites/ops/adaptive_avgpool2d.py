"""Adaptive 2D average pooling of an NCHW batch to a fixed (output_size, output_size) grid."""

import torch
import torch.nn as nn

CATEGORY = "pooling"

CONFIGS = [
    dict(batch=1, channels=3, height=31, width=45),
    dict(batch=3, channels=17, height=5, width=1),
    dict(batch=2, channels=129, height=8, width=13),
    dict(output_size=3, batch=2, channels=10, height=100, width=11),
]

SCALES = {"gpu": dict(batch=64, channels=512, height=59, width=61)}


def sample_config(rng):
    return dict(
        output_size=rng.randint(1, 9),
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 64),
        height=rng.randint(1, 64),
        width=rng.randint(1, 64),
    )


class Model(nn.Module):
    """y[b, c, i, j] = mean of x[b, c, h, w] over floor(i * H / S) <= h < ceil((i + 1) * H / S) and
    floor(j * W / S) <= w < ceil((j + 1) * W / S), with S = output_size, H = height, W = width
    (windows may overlap, and repeat rows when H < S); output size (S, S)."""

    def __init__(self, output_size: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs(batch=8, channels=64, height=45, width=50):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs(output_size=7):
    return [output_size]
