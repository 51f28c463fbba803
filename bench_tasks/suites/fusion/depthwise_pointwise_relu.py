"""Depthwise 3x3 convolution, pointwise 1x1 convolution, then ReLU (a separable conv block)."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, height=17, width=45),
    dict(batch=5, in_channels=33, out_channels=1, height=1, width=2),
    dict(batch=2, in_channels=130, out_channels=129, height=11, width=6),
]

SCALES = {"gpu": dict(batch=64, in_channels=256, out_channels=256, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 24),
        out_channels=rng.randint(1, 24),
        height=rng.randint(1, 24),
        width=rng.randint(1, 24),
    )


class Model(nn.Module):
    """d[b, c, i, j] = dw_bias[c] + sum_{p, q < 3} Wd[c, 0, p, q] * x[b, c, i + p - 1, j + q - 1]
    (one 3x3 filter per channel, stride 1, zero padding 1, so d has the spatial size of x);
    e[b, o, i, j] = pw_bias[o] + sum_c Wp[o, c, 0, 0] * d[b, c, i, j];
    y = max(e, 0).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.pointwise(self.depthwise(x)))


def get_inputs(batch=4, in_channels=32, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width) * 2]


def get_init_inputs(in_channels=32, out_channels=64):
    return [in_channels, out_channels]
