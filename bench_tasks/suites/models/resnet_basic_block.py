"""A ResNet basic block: two 3x3 convolutions with training-mode batch norm, identity shortcut."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=3, channels=7, height=17, width=23),
    dict(batch=2, channels=64, height=1, width=3),
    dict(batch=5, channels=3, height=40, width=9),
]

SCALES = {"gpu": dict(batch=32, channels=256, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(2, 4),
        channels=rng.randint(1, 24),
        height=rng.randint(1, 40),
        width=rng.randint(1, 40),
    )


class Model(nn.Module):
    """h = relu(bn1(conv1(x))); y = relu(bn2(conv2(h)) + x). conv1 and conv2 are 3x3,
    channels -> channels, stride 1, padding 1, no bias. bn is training-mode batch norm: per
    channel, mean and biased variance over (batch, height, width) of its input,
    (v - mean) / sqrt(var + 1e-5) * weight + bias."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        for bn in (self.bn1, self.bn2):
            nn.init.normal_(bn.weight, 1.0, 0.5)
            nn.init.normal_(bn.bias, 0.0, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + x)


def get_inputs(batch=4, channels=32, height=32, width=32):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs(channels=32):
    return [channels]
