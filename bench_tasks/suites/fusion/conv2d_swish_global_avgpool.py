"""2D convolution, swish (x * sigmoid(x)), then global average pooling to one value per channel."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, height=17, width=45),
    dict(batch=5, in_channels=33, out_channels=1, height=3, width=3),
    dict(batch=2, in_channels=1, out_channels=130, height=11, width=6, kernel_size=5),
]

SCALES = {"gpu": dict(batch=64, in_channels=128, out_channels=256, height=56, width=56)}


def sample_config(rng):
    k = rng.randint(1, 5)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 12),
        out_channels=rng.randint(1, 24),
        height=rng.randint(k, 24),
        width=rng.randint(k, 24),
        kernel_size=k,
    )


class Model(nn.Module):
    """h = conv2d(x, W) + conv_bias (valid, stride 1), shape (batch, C, H', W');
    y[b, o, 0, 0] = mean_{i, j} h[b, o, i, j] * sigmoid(h[b, o, i, j]); y is (batch, C, 1, 1).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        return F.adaptive_avg_pool2d(h * torch.sigmoid(h), 1)


def get_inputs(batch=4, in_channels=16, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width) * 3]


def get_init_inputs(in_channels=16, out_channels=32, kernel_size=3):
    return [in_channels, out_channels, kernel_size]
