"""2D max pooling (3x3 window, stride 2, padding 1), with the input gradient checked too."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "pooling"
BACKWARD = True

CONFIGS = [
    dict(batch=3, channels=5, height=17, width=23),
    dict(batch=1, channels=64, height=2, width=1),
    dict(batch=2, channels=1, height=1, width=301),
]

SCALES = {"gpu": dict(batch=32, channels=64, height=224, width=224)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 32),
        height=rng.randint(1, 60),
        width=rng.randint(1, 60),
    )


class Model(nn.Module):
    """y[b, c, i, j] = max over p, q in {0, 1, 2} of x[b, c, 2i + p - 1, 2j + q - 1] (positions
    outside the image ignored), output size floor((H - 1) / 2) + 1 by floor((W - 1) / 2) + 1;
    dx sums dy into the position of each window's maximum (overlapping windows add up)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, kernel_size=3, stride=2, padding=1)


def get_inputs(batch=8, channels=32, height=64, width=64):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return []
