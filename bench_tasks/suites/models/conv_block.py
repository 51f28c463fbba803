"""Two rounds of 3x3 convolution, training-mode batch norm and ReLU, then 2x2 max pooling."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=3, in_channels=5, channels=7, height=17, width=23),
    dict(batch=2, in_channels=1, channels=64, height=2, width=2),
    dict(batch=4, in_channels=3, channels=16, height=9, width=40),
]

SCALES = {"gpu": dict(batch=32, in_channels=128, channels=256, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(2, 4),
        in_channels=rng.randint(1, 16),
        channels=rng.randint(1, 24),
        height=rng.randint(2, 40),
        width=rng.randint(2, 40),
    )


class Model(nn.Module):
    """h = relu(bn1(conv1(x))); h = relu(bn2(conv2(h))); y = max_pool2d(h, 2, stride 2).
    conv1 (in_channels -> channels) and conv2 (channels -> channels) are 3x3, padding 1, with
    bias. bn is training-mode batch norm: per channel, mean and biased variance over (batch,
    height, width) of its input, (v - mean) / sqrt(var + 1e-5) * weight + bias. The pooling
    output is floor(height / 2) by floor(width / 2)."""

    def __init__(self, in_channels: int, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)
        for bn in (self.bn1, self.bn2):
            nn.init.normal_(bn.weight, 1.0, 0.5)
            nn.init.normal_(bn.bias, 0.0, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.max_pool2d(x, 2)


def get_inputs(batch=4, in_channels=16, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs(in_channels=16, channels=32):
    return [in_channels, channels]
