"""A same-size 3x3 convolution whose output is added to its input, then ReLU (a residual block)."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, channels=7, height=17, width=45),
    dict(batch=5, channels=1, height=1, width=2),
    dict(batch=2, channels=130, height=11, width=6),
]

SCALES = {"gpu": dict(batch=64, channels=256, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 24),
        height=rng.randint(1, 24),
        width=rng.randint(1, 24),
    )


class Model(nn.Module):
    """h[b, o, i, j] = conv_bias[o] + sum_{c, p, q} W[o, c, p, q] * x[b, c, i + p - 1, j + q - 1]
    (3x3 kernel, stride 1, zero padding 1, so h has the shape of x);
    y = max(x + h, 0).
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.conv(x))


def get_inputs(batch=4, channels=24, height=32, width=32):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs(channels=24):
    return [channels]
