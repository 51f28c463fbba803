"""1D max pooling (kernel 3, stride 2, padding 1) over a (batch, channels, length) tensor."""

import torch
import torch.nn as nn

CATEGORY = "pooling"

CONFIGS = [
    dict(batch=3, channels=17, length=1001),
    dict(batch=1, channels=129, length=1),
    dict(batch=5, channels=1, length=2),
]

SCALES = {"gpu": dict(batch=64, channels=256, length=16384)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 8), channels=rng.randint(1, 64), length=rng.randint(1, 2000))


class Model(nn.Module):
    """y[b, c, i] = max_{0 <= j < 3} x[b, c, 2i + j - 1] over the positions inside [0, length)
    (padding never wins); output length (length + 1) // 2."""

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool1d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs(batch=8, channels=64, length=2048):
    return [torch.randn(batch, channels, length)]


def get_init_inputs():
    return []
