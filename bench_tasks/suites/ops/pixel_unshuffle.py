"""Pixel unshuffle (factor 2): (batch, channels, 2h, 2w) -> (batch, 4 * channels, height, width)."""

import torch
import torch.nn as nn

CATEGORY = "resize"

CONFIGS = [
    dict(batch=1, channels=3, height=31, width=45),
    dict(batch=3, channels=17, height=1, width=67),
    dict(batch=2, channels=1, height=9, width=2),
]

SCALES = {"gpu": dict(batch=32, channels=64, height=128, width=128)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 16),
        height=rng.randint(1, 48),
        width=rng.randint(1, 48),
    )


class Model(nn.Module):
    """y[b, 4c + 2p + q, i, j] = x[b, c, 2i + p, 2j + q] for 0 <= p, q < 2; height and width are
    the output's, the input is (2 * height, 2 * width)."""

    def __init__(self):
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.unshuffle(x)


def get_inputs(batch=4, channels=32, height=32, width=32):
    return [torch.randn(batch, channels, 2 * height, 2 * width)]


def get_init_inputs():
    return []
