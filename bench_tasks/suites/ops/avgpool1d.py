"""1D average pooling of (batch, channels, length): kernel 4, stride 2, padding 1 (pad counted)."""

import torch
import torch.nn as nn

CATEGORY = "pooling"

CONFIGS = [
    dict(batch=3, channels=17, length=1001),
    dict(batch=1, channels=129, length=2),
    dict(batch=5, channels=1, length=3),
]

SCALES = {"gpu": dict(batch=64, channels=256, length=16384)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 8), channels=rng.randint(1, 64), length=rng.randint(2, 2000))


class Model(nn.Module):
    """y[b, c, i] = (1 / 4) * sum_{0 <= j < 4} x[b, c, 2i + j - 1], with x taken as 0 outside
    [0, length) and the divisor always 4 (count_include_pad=True); output length length // 2."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool1d(kernel_size=4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs(batch=8, channels=64, length=2048):
    return [torch.randn(batch, channels, length)]


def get_init_inputs():
    return []
