"""3D convolution, ReLU, then 3D max pooling."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, depth=5, height=11, width=19),
    dict(batch=3, in_channels=17, out_channels=1, depth=4, height=4, width=5),
    dict(batch=2, in_channels=1, out_channels=33, depth=8, height=7, width=6, kernel_size=2),
]

SCALES = {"gpu": dict(batch=16, in_channels=64, out_channels=128, depth=34, height=34, width=34)}


def sample_config(rng):
    k = rng.randint(1, 3)
    return dict(
        batch=rng.randint(1, 3),
        in_channels=rng.randint(1, 8),
        out_channels=rng.randint(1, 12),
        depth=rng.randint(k + 1, 12),
        height=rng.randint(k + 1, 12),
        width=rng.randint(k + 1, 12),
        kernel_size=k,
    )


class Model(nn.Module):
    """h[b, o, d, i, j] = conv_bias[o]
        + sum_{c, r, p, q} W[o, c, r, p, q] * x[b, c, d + r, i + p, j + q]
    (valid, stride 1, cubic kernel k); r = max(h, 0);
    y[b, o, d, i, j] = max_{0 <= u, v, w < 2} r[b, o, 2d + u, 2i + v, 2j + w]
    (window = stride = 2, no padding, each output extent floor(extent / 2)).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(torch.relu(self.conv(x)), 2)


def get_inputs(batch=2, in_channels=8, depth=16, height=16, width=16):
    return [torch.randn(batch, in_channels, depth, height, width)]


def get_init_inputs(in_channels=8, out_channels=16, kernel_size=3):
    return [in_channels, out_channels, kernel_size]
