"""2D convolution, batch normalization with batch statistics (training mode), then ReLU."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, height=17, width=45),
    dict(batch=5, in_channels=33, out_channels=1, height=4, width=3),
    dict(batch=2, in_channels=1, out_channels=130, height=11, width=6, kernel_size=5),
]

SCALES = {"gpu": dict(batch=64, in_channels=128, out_channels=256, height=56, width=56)}


def sample_config(rng):
    k = rng.randint(1, 5)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 12),
        out_channels=rng.randint(1, 24),
        height=rng.randint(k + 1, 24),
        width=rng.randint(k + 1, 24),
        kernel_size=k,
    )


class Model(nn.Module):
    """h = conv2d(x, W) + conv_bias (valid, stride 1);
    mu[o] = mean of h[:, o] over (batch, i, j); var[o] = biased variance over the same;
    y = max(0, (h - mu[o]) / sqrt(var[o] + eps) * gamma[o] + beta[o]).

    Batch statistics are always used (training-mode BatchNorm2d, no running statistics).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, eps: float):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)
        self.bn = nn.BatchNorm2d(out_channels, eps=eps, track_running_stats=False)
        with torch.no_grad():
            self.bn.weight.copy_(torch.rand(out_channels) * 1.5 + 0.5)
            self.bn.bias.copy_(torch.randn(out_channels) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


def get_inputs(batch=4, in_channels=16, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs(in_channels=16, out_channels=32, kernel_size=3, eps=1e-5):
    return [in_channels, out_channels, kernel_size, eps]
