"""2D convolution, 2D max pooling, then ReLU."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, height=17, width=45),
    dict(batch=5, in_channels=33, out_channels=1, height=4, width=5, pool=2),
    dict(batch=2, in_channels=1, out_channels=130, height=14, width=9, kernel_size=5, pool=3),
]

SCALES = {"gpu": dict(batch=64, in_channels=128, out_channels=256, height=58, width=58)}


def sample_config(rng):
    k = rng.randint(1, 5)
    pool = rng.randint(1, 3)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 12),
        out_channels=rng.randint(1, 24),
        height=rng.randint(k + pool - 1, 24),
        width=rng.randint(k + pool - 1, 24),
        kernel_size=k,
        pool=pool,
    )


class Model(nn.Module):
    """h = conv2d(x, W) + conv_bias (valid, stride 1), shape (batch, C, H', W');
    m[b, o, i, j] = max_{0 <= p, q < pool} h[b, o, pool * i + p, pool * j + q]
    (window = stride = pool, no padding, output floor(H' / pool) x floor(W' / pool));
    y = max(m, 0).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, pool: int):
        super().__init__()
        self.pool = pool
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(F.max_pool2d(self.conv(x), self.pool))


def get_inputs(batch=4, in_channels=16, height=34, width=34):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs(in_channels=16, out_channels=32, kernel_size=3, pool=2):
    return [in_channels, out_channels, kernel_size, pool]
