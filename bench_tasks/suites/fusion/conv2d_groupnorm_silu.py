"""2D convolution, group normalization, then SiLU (swish)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=9, groups=3, height=17, width=45),
    dict(batch=5, in_channels=33, out_channels=1, groups=1, height=4, width=3),
    dict(batch=2, in_channels=1, out_channels=130, groups=13, height=11, width=6, kernel_size=5),
]

SCALES = {"gpu": dict(batch=64, in_channels=128, out_channels=256, groups=32, height=56, width=56)}


def sample_config(rng):
    k = rng.randint(1, 5)
    groups = rng.randint(1, 6)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 12),
        out_channels=groups * rng.randint(1, 4),
        groups=groups,
        height=rng.randint(k + 1, 24),
        width=rng.randint(k + 1, 24),
        kernel_size=k,
    )


class Model(nn.Module):
    """h = conv2d(x, W) + conv_bias (valid, stride 1), shape (batch, C, H', W');
    the C channels are split into `groups` consecutive groups of C / groups channels;
    mu, var = mean and biased variance of h[b, group] over its channels and all (i, j);
    n = (h - mu) / sqrt(var + eps) * gamma[c] + beta[c];
    y = n * sigmoid(n).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, groups: int, eps: float
    ):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)
        self.norm = nn.GroupNorm(groups, out_channels, eps=eps)
        with torch.no_grad():
            self.norm.weight.copy_(torch.rand(out_channels) * 1.5 + 0.5)
            self.norm.bias.copy_(torch.randn(out_channels) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(self.norm(self.conv(x)))


def get_inputs(batch=4, in_channels=16, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs(in_channels=16, out_channels=32, kernel_size=3, groups=8, eps=1e-5):
    return [in_channels, out_channels, kernel_size, groups, eps]
