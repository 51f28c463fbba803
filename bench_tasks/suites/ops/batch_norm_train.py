"""BatchNorm2d in training mode (batch statistics) on a (batch, channels, height, width) tensor."""

import torch
import torch.nn as nn

CATEGORY = "norm"

CONFIGS = [
    dict(batch=3, channels=17, height=31, width=29),
    dict(batch=1, channels=5, height=1, width=2),
    dict(batch=64, channels=1, height=7, width=9),
]

SCALES = {"gpu": dict(batch=64, channels=256, height=64, width=64)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 8),
        channels=rng.randint(1, 64),
        height=rng.randint(2, 40),
        width=rng.randint(1, 40),
    )


class Model(nn.Module):
    """Per channel c, over all (n, h, w): mu_c = mean x[:, c];  var_c = mean (x[:, c] - mu_c)^2
    (biased); y[n, c, h, w] = (x[n, c, h, w] - mu_c) / sqrt(var_c + eps) * weight[c] + bias[c].
    (The running-statistics update of nn.BatchNorm2d is a side effect, not an output.)"""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=eps)
        with torch.no_grad():
            self.bn.weight.copy_(torch.randn(channels))
            self.bn.bias.copy_(torch.randn(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(x)


def get_inputs(batch=16, channels=64, height=32, width=32):
    # Per-channel offsets and scales.
    scale = torch.rand(1, channels, 1, 1) * 3 + 0.1
    offset = torch.randn(1, channels, 1, 1) * 5
    return [torch.randn(batch, channels, height, width) * scale + offset]


def get_init_inputs(channels=64, eps=1e-5):
    return [channels, eps]
