"""Group normalization, SiLU, then a same-size 3x3 convolution (a diffusion resblock's start)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=9, groups=3, out_channels=7, height=17, width=45),
    dict(batch=5, in_channels=2, groups=1, out_channels=1, height=1, width=2),
    dict(batch=2, in_channels=130, groups=13, out_channels=129, height=11, width=6),
]

SCALES = {"gpu": dict(batch=32, in_channels=256, groups=32, out_channels=256, height=64, width=64)}


def sample_config(rng):
    groups = rng.randint(1, 6)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=groups * rng.randint(1, 4),
        groups=groups,
        out_channels=rng.randint(1, 24),
        height=rng.randint(2, 24),
        width=rng.randint(2, 24),
    )


class Model(nn.Module):
    """The C = in_channels channels of x are split into `groups` consecutive groups;
    mu, var = mean and biased variance of x[b, group] over its C / groups channels and all (i, j);
    n = (x - mu) / sqrt(var + eps) * gamma[c] + beta[c]; s = n * sigmoid(n);
    y[b, o, i, j] = conv_bias[o] + sum_{c, p, q < 3} W[o, c, p, q] * s[b, c, i + p - 1, j + q - 1]
    (3x3 kernel, stride 1, zero padding 1, so y has the spatial size of x).
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int, eps: float):
        super().__init__()
        self.norm = nn.GroupNorm(groups, in_channels, eps=eps)
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        with torch.no_grad():
            self.norm.weight.copy_(torch.rand(in_channels) * 1.5 + 0.5)
            self.norm.bias.copy_(torch.randn(in_channels) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.silu(self.norm(x)))


def get_inputs(batch=2, in_channels=32, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width) * 3 + 1]


def get_init_inputs(in_channels=32, out_channels=32, groups=8, eps=1e-5):
    return [in_channels, out_channels, groups, eps]
