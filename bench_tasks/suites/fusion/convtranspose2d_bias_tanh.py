"""Strided 2D transposed convolution (no bias), a learned per-channel bias add, then tanh."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, height=9, width=23),
    dict(batch=5, in_channels=33, out_channels=1, height=1, width=2),
    dict(batch=2, in_channels=1, out_channels=130, height=6, width=5, kernel_size=3, stride=3),
]

SCALES = {"gpu": dict(batch=64, in_channels=256, out_channels=128, height=28, width=28)}


def sample_config(rng):
    stride = rng.randint(1, 3)
    k = rng.randint(stride, 5)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 12),
        out_channels=rng.randint(1, 24),
        height=rng.randint(1, 12),
        width=rng.randint(1, 12),
        kernel_size=k,
        stride=stride,
        padding=rng.randint(0, (k - 1) // 2),
    )


class Model(nn.Module):
    """h[b, o, u, v] = sum over (c, i, j, p, q) with u = i * stride + p - padding and
    v = j * stride + q - padding of x[b, c, i, j] * W[c, o, p, q]
    (W is (in_channels, out_channels, k, k); output size (H - 1) * stride - 2 * padding + k);
    y[b, o, u, v] = tanh(h[b, o, u, v] + bias[o]), bias of shape (out_channels, 1, 1).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int
    ):
        super().__init__()
        self.conv = nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False
        )
        self.bias = nn.Parameter(torch.randn(out_channels, 1, 1) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x) + self.bias)


def get_inputs(batch=4, in_channels=32, height=16, width=16):
    return [torch.randn(batch, in_channels, height, width) * 2]


def get_init_inputs(in_channels=32, out_channels=16, kernel_size=4, stride=2, padding=1):
    return [in_channels, out_channels, kernel_size, stride, padding]
