"""BatchNorm2d in eval mode (running statistics) on a (batch, channels, height, width) tensor."""

import torch
import torch.nn as nn

CATEGORY = "norm"

CONFIGS = [
    dict(batch=3, channels=17, height=31, width=29),
    dict(batch=1, channels=5, height=1, width=1),
    dict(batch=64, channels=1, height=7, width=9),
]

SCALES = {"gpu": dict(batch=64, channels=256, height=64, width=64)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 8),
        channels=rng.randint(1, 64),
        height=rng.randint(1, 40),
        width=rng.randint(1, 40),
    )


class Model(nn.Module):
    """y[n, c, h, w] = (x[n, c, h, w] - running_mean[c]) / sqrt(running_var[c] + eps)
    * weight[c] + bias[c], with the stored buffers running_mean and running_var (no update)."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=eps)
        with torch.no_grad():
            self.bn.weight.copy_(torch.randn(channels))
            self.bn.bias.copy_(torch.randn(channels))
            self.bn.running_mean.copy_(torch.rand(channels) * 2 + 0.1)
            self.bn.running_var.copy_(torch.rand(channels) * 4 + 0.05)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(x)


def get_inputs(batch=16, channels=64, height=32, width=32):
    return [torch.randn(batch, channels, height, width) * 2 + 1]


def get_init_inputs(channels=64, eps=1e-5):
    return [channels, eps]
