"""1D convolution (kernel 5, stride 1, padding 2) with bias, (batch, channels, length)."""

import torch
import torch.nn as nn

CATEGORY = "conv"

CONFIGS = [
    dict(batch=3, in_channels=3, out_channels=17, length=1001),
    dict(batch=1, in_channels=67, out_channels=5, length=1),
    dict(batch=2, in_channels=1, out_channels=129, length=37),
]

SCALES = {"gpu": dict(batch=32, in_channels=256, out_channels=256, length=16384)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 48),
        out_channels=rng.randint(1, 48),
        length=rng.randint(1, 1500),
    )


class Model(nn.Module):
    """y[b, o, i] = bias[o] + sum_{c, 0 <= j < 5} weight[o, c, j] * x[b, c, i + j - 2],
    with x taken as 0 outside 0 <= i + j - 2 < length; the output has the input's length."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size=5, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs(batch=4, in_channels=32, length=1024):
    return [torch.randn(batch, in_channels, length)]


def get_init_inputs(in_channels=32, out_channels=32):
    return [in_channels, out_channels]
