"""3D convolution (3x3x3, stride 1, padding 1) with bias over an NCDHW volume batch."""

import torch
import torch.nn as nn

CATEGORY = "conv"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=17, depth=9, height=13, width=11),
    dict(batch=3, in_channels=7, out_channels=5, depth=1, height=1, width=31),
    dict(batch=2, in_channels=1, out_channels=33, depth=5, height=2, width=7),
]

SCALES = {"gpu": dict(batch=8, in_channels=64, out_channels=64, depth=32, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 2),
        in_channels=rng.randint(1, 12),
        out_channels=rng.randint(1, 12),
        depth=rng.randint(1, 12),
        height=rng.randint(1, 16),
        width=rng.randint(1, 16),
    )


class Model(nn.Module):
    """y[b, o, d, i, j] = bias[o] + sum_{c, 0 <= r, p, q < 3} weight[o, c, r, p, q]
        * x[b, c, d + r - 1, i + p - 1, j + q - 1],
    with x taken as 0 outside the volume; the output keeps (depth, height, width)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs(batch=2, in_channels=8, depth=16, height=16, width=16):
    return [torch.randn(batch, in_channels, depth, height, width)]


def get_init_inputs(in_channels=8, out_channels=16):
    return [in_channels, out_channels]
