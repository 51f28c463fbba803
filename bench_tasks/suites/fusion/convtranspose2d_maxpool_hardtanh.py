"""Strided 2D transposed convolution, 2x2 max pooling, then hardtanh."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, height=9, width=23),
    dict(batch=5, in_channels=33, out_channels=1, height=1, width=2),
    dict(batch=2, in_channels=1, out_channels=130, height=6, width=5, kernel_size=3, stride=3),
]

SCALES = {"gpu": dict(batch=64, in_channels=256, out_channels=128, height=56, width=56)}


def sample_config(rng):
    stride = rng.randint(1, 3)
    k = rng.randint(max(stride, 2), 5)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 12),
        out_channels=rng.randint(1, 24),
        height=rng.randint(1, 12),
        width=rng.randint(1, 12),
        kernel_size=k,
        stride=stride,
        padding=rng.randint(0, (k - 2) // 2),
    )


class Model(nn.Module):
    """h[b, o, u, v] = conv_bias[o] + sum over (c, i, j, p, q) with u = i * stride + p - padding
    and v = j * stride + q - padding of x[b, c, i, j] * W[c, o, p, q]
    (W is (in_channels, out_channels, k, k); output size (H - 1) * stride - 2 * padding + k);
    m[b, o, u, v] = max_{0 <= p, q < 2} h[b, o, 2u + p, 2v + q] (window = stride = 2, floor);
    y = min(max(m, min_val), max_val).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        padding: int,
        min_val: float,
        max_val: float,
    ):
        super().__init__()
        self.min_val, self.max_val = min_val, max_val
        self.conv = nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = F.max_pool2d(self.conv(x), 2)
        return F.hardtanh(m, self.min_val, self.max_val)


def get_inputs(batch=4, in_channels=32, height=16, width=16):
    return [torch.randn(batch, in_channels, height, width) * 2]


def get_init_inputs(
    in_channels=32, out_channels=16, kernel_size=4, stride=2, padding=1, min_val=-1.0, max_val=1.0
):
    return [in_channels, out_channels, kernel_size, stride, padding, min_val, max_val]
