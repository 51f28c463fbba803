"""2D max pooling (kernel 3, stride 2, padding 1) over an NCHW batch."""

import torch
import torch.nn as nn

CATEGORY = "pooling"

CONFIGS = [
    dict(batch=1, channels=3, height=31, width=45),
    dict(batch=3, channels=17, height=1, width=66),
    dict(batch=2, channels=129, height=2, width=5),
]

SCALES = {"gpu": dict(batch=64, channels=64, height=224, width=224)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 64),
        height=rng.randint(1, 64),
        width=rng.randint(1, 64),
    )


class Model(nn.Module):
    """y[b, c, i, j] = max_{0 <= p, q < 3} x[b, c, 2i + p - 1, 2j + q - 1] over the positions inside
    the image (padding never wins); output size ((height + 1) // 2, (width + 1) // 2)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs(batch=8, channels=32, height=64, width=64):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return []
