"""MobileNetV2 inverted residual: 1x1 expand, ReLU6, depthwise 3x3, ReLU6, 1x1 project, + input."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=3, channels=5, expand=6, height=17, width=23),
    dict(batch=1, channels=64, expand=1, height=1, width=3),
    dict(batch=2, channels=3, expand=4, height=40, width=9),
]

SCALES = {"gpu": dict(batch=64, channels=64, expand=6, height=56, width=56)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        channels=rng.randint(1, 24),
        expand=rng.randint(1, 6),
        height=rng.randint(1, 40),
        width=rng.randint(1, 40),
    )


class Model(nn.Module):
    """x (batch, channels, height, width), hidden = channels * expand, relu6(v) = min(max(v,
    0), 6). a = relu6(conv1x1_expand(x)) (channels -> hidden); d = relu6(depthwise(a)), a 3x3
    convolution of each of the hidden channels on its own (groups = hidden), stride 1,
    padding 1; y = x + conv1x1_project(d) (hidden -> channels). Every convolution has a bias."""

    def __init__(self, channels: int, expand: int):
        super().__init__()
        hidden = channels * expand
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.depthwise = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.project = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.relu6(self.expand(x))
        d = F.relu6(self.depthwise(a))
        return x + self.project(d)


def get_inputs(batch=4, channels=32, height=32, width=32):
    return [torch.randn(batch, channels, height, width) * 6]


def get_init_inputs(channels=32, expand=6):
    return [channels, expand]
