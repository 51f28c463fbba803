"""LeNet-5: two rounds of 5x5 convolution, ReLU and 2x2 max pooling, then three linear layers."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=7, channels=3, height=37, width=33, classes=10),
    dict(batch=1, channels=1, height=16, width=16, classes=1),
    dict(batch=33, channels=2, height=64, width=16, classes=101),
]

SCALES = {"gpu": dict(batch=32768, channels=1, height=32, width=32, classes=10)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 32),
        channels=rng.randint(1, 4),
        height=rng.randint(16, 48),
        width=rng.randint(16, 48),
        classes=rng.randint(1, 50),
    )


class Model(nn.Module):
    """x (batch, channels, height, width), height and width at least 16. h = max_pool2d(relu(
    conv1(x)), 2); h = max_pool2d(relu(conv2(h)), 2), conv1 (channels -> 6) and conv2 (6 -> 16)
    5x5, stride 1, no padding, with bias, pooling 2x2 stride 2 (odd sizes round down);
    f = h flattened per sample in (channel, row, column) order;
    y = fc3(relu(fc2(relu(fc1(f))))), fc1 -> 120, fc2 120 -> 84, fc3 84 -> classes, with bias."""

    def __init__(self, channels: int, height: int, width: int, classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        h = ((height - 4) // 2 - 4) // 2
        w = ((width - 4) // 2 - 4) // 2
        self.fc1 = nn.Linear(16 * h * w, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def get_inputs(batch=256, channels=1, height=32, width=32):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs(channels=1, height=32, width=32, classes=10):
    return [channels, height, width, classes]
