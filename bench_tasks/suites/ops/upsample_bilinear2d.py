"""Bilinear 2x upsampling (align_corners=False) of an NCHW batch."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "resize"

CONFIGS = [
    dict(batch=1, channels=3, height=31, width=45),
    dict(batch=3, channels=17, height=1, width=67),
    dict(batch=2, channels=129, height=9, width=2),
]

SCALES = {"gpu": dict(batch=32, channels=128, height=128, width=128)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 32),
        height=rng.randint(1, 48),
        width=rng.randint(1, 48),
    )


class Model(nn.Module):
    """Output size (2H, 2W). For output row i: s = max((i + 0.5) / 2 - 0.5, 0), i0 = floor(s),
    i1 = min(i0 + 1, H - 1), a = s - i0; likewise column j gives j0, j1, c. Then
    y[b, ch, i, j] = (1 - a) * ((1 - c) * x[b, ch, i0, j0] + c * x[b, ch, i0, j1])
                   + a * ((1 - c) * x[b, ch, i1, j0] + c * x[b, ch, i1, j1])."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def get_inputs(batch=4, channels=32, height=64, width=64):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return []
