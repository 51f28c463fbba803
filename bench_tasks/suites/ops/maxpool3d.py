"""3D max pooling (kernel 3, stride 2, padding 1) over an NCDHW volume batch."""

import torch
import torch.nn as nn

CATEGORY = "pooling"

CONFIGS = [
    dict(batch=1, channels=3, depth=9, height=13, width=11),
    dict(batch=3, channels=7, depth=1, height=1, width=31),
    dict(batch=2, channels=33, depth=2, height=5, width=2),
]

SCALES = {"gpu": dict(batch=8, channels=64, depth=32, height=112, width=112)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 2),
        channels=rng.randint(1, 16),
        depth=rng.randint(1, 24),
        height=rng.randint(1, 24),
        width=rng.randint(1, 24),
    )


class Model(nn.Module):
    """y[b, c, d, i, j] = max_{0 <= r, p, q < 3} x[b, c, 2d + r - 1, 2i + p - 1, 2j + q - 1] over
    the positions inside the volume (padding never wins); each output size is
    (input size + 1) // 2."""

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool3d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs(batch=2, channels=16, depth=32, height=32, width=32):
    return [torch.randn(batch, channels, depth, height, width)]


def get_init_inputs():
    return []
