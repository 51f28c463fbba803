"""Pre-activation block: batch normalization with batch statistics, ReLU, then a 3x3 convolution."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, height=17, width=45),
    dict(batch=5, in_channels=33, out_channels=1, height=1, width=2),
    dict(batch=2, in_channels=1, out_channels=130, height=11, width=6),
]

SCALES = {"gpu": dict(batch=64, in_channels=256, out_channels=256, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 12),
        out_channels=rng.randint(1, 24),
        height=rng.randint(2, 24),
        width=rng.randint(2, 24),
    )


class Model(nn.Module):
    """mu[c], var[c] = mean and biased variance of x[:, c] over (batch, i, j);
    n = (x - mu[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c]; r = max(n, 0);
    y[b, o, i, j] = conv_bias[o] + sum_{c, p, q < 3} W[o, c, p, q] * r[b, c, i + p - 1, j + q - 1]
    (3x3 kernel, stride 1, zero padding 1, so y has the spatial size of x).

    Batch statistics are always used (training-mode BatchNorm2d, no running statistics).
    """

    def __init__(self, in_channels: int, out_channels: int, eps: float):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels, eps=eps, track_running_stats=False)
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        with torch.no_grad():
            self.bn.weight.copy_(torch.rand(in_channels) * 1.5 + 0.5)
            self.bn.bias.copy_(torch.randn(in_channels) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.relu(self.bn(x)))


def get_inputs(batch=4, in_channels=16, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width) * 3 + 1]


def get_init_inputs(in_channels=16, out_channels=32, eps=1e-5):
    return [in_channels, out_channels, eps]
