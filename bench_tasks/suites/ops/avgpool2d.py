"""2D average pooling (kernel 2, stride 2, no padding) over an NCHW batch."""

import torch
import torch.nn as nn

CATEGORY = "pooling"

CONFIGS = [
    dict(batch=1, channels=3, height=31, width=45),
    dict(batch=3, channels=17, height=2, width=67),
    dict(batch=2, channels=129, height=9, width=3),
]

SCALES = {"gpu": dict(batch=64, channels=64, height=224, width=224)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 64),
        height=rng.randint(2, 64),
        width=rng.randint(2, 64),
    )


class Model(nn.Module):
    """y[b, c, i, j] = (x[b, c, 2i, 2j] + x[b, c, 2i, 2j + 1]
                    + x[b, c, 2i + 1, 2j] + x[b, c, 2i + 1, 2j + 1]) / 4;
    output size (height // 2, width // 2) (an odd last row or column is dropped)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(kernel_size=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs(batch=8, channels=32, height=64, width=64):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return []
