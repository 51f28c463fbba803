"""2D convolution, batch normalization with fixed running statistics (eval mode), then ReLU6."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, height=17, width=45),
    dict(batch=5, in_channels=33, out_channels=1, height=3, width=3),
    dict(batch=2, in_channels=1, out_channels=130, height=11, width=6, kernel_size=5),
]

SCALES = {"gpu": dict(batch=64, in_channels=128, out_channels=256, height=56, width=56)}


def sample_config(rng):
    k = rng.randint(1, 5)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 12),
        out_channels=rng.randint(1, 24),
        height=rng.randint(k, 24),
        width=rng.randint(k, 24),
        kernel_size=k,
    )


class Model(nn.Module):
    """h = conv2d(x, W) + conv_bias (valid, stride 1);
    n = (h - running_mean[o]) / sqrt(running_var[o] + eps) * gamma[o] + beta[o];
    y = min(max(n, 0), 6).

    running_mean and running_var are fixed buffers (running_var > 0), not updated by forward.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, eps: float):
        super().__init__()
        self.eps = eps
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)
        self.gamma = nn.Parameter(torch.rand(out_channels) * 2 + 1)
        self.beta = nn.Parameter(torch.randn(out_channels) + 1)
        self.register_buffer("running_mean", torch.randn(out_channels) * 0.5)
        self.register_buffer("running_var", torch.rand(out_channels) * 2 + 0.25)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        n = F.batch_norm(
            h, self.running_mean, self.running_var, self.gamma, self.beta, False, 0.0, self.eps
        )
        return F.relu6(n)


def get_inputs(batch=4, in_channels=16, height=32, width=32):
    return [torch.randn(batch, in_channels, height, width) * 3]


def get_init_inputs(in_channels=16, out_channels=32, kernel_size=3, eps=1e-5):
    return [in_channels, out_channels, kernel_size, eps]
