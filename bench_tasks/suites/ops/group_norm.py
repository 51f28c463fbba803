"""Group normalization (affine) of a (batch, channels, height, width) tensor."""

import torch
import torch.nn as nn

CATEGORY = "norm"

CONFIGS = [
    dict(batch=3, groups=5, channels=35, height=17, width=13),
    dict(batch=1, groups=1, channels=3, height=1, width=2),
    dict(batch=7, groups=16, channels=16, height=9, width=31),
]

SCALES = {"gpu": dict(batch=64, groups=32, channels=256, height=64, width=64)}


def sample_config(rng):
    groups = rng.randint(1, 8)
    return dict(
        batch=rng.randint(1, 8),
        groups=groups,
        channels=groups * rng.randint(1, 8),
        height=rng.randint(1, 40),
        width=rng.randint(2, 40),
    )


class Model(nn.Module):
    """Channels split into `groups` contiguous groups of channels / groups; per (n, group g):
    mu = mean and var = biased variance of x[n, channels of g, :, :];
    y[n, c, h, w] = (x[n, c, h, w] - mu) / sqrt(var + eps) * weight[c] + bias[c]."""

    def __init__(self, groups: int, channels: int, eps: float = 1e-5):
        super().__init__()
        self.gn = nn.GroupNorm(groups, channels, eps=eps)
        with torch.no_grad():
            self.gn.weight.copy_(torch.randn(channels))
            self.gn.bias.copy_(torch.randn(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gn(x)


def get_inputs(batch=16, channels=64, height=32, width=32):
    # Per-sample, per-channel offsets and scales.
    scale = torch.rand(batch, channels, 1, 1) * 3 + 0.1
    offset = torch.randn(batch, channels, 1, 1) * 3
    return [torch.randn(batch, channels, height, width) * scale + offset]


def get_init_inputs(groups=8, channels=64, eps=1e-5):
    return [groups, channels, eps]
