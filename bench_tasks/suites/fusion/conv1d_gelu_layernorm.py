"""1D convolution, exact GELU, a transpose to channels-last, then layer norm over the channels."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=1, in_channels=3, out_channels=7, length=1001),
    dict(batch=5, in_channels=33, out_channels=2, length=3),
    dict(batch=2, in_channels=1, out_channels=130, length=77, kernel_size=5),
]

SCALES = {"gpu": dict(batch=64, in_channels=256, out_channels=256, length=4096)}


def sample_config(rng):
    k = rng.randint(1, 5)
    return dict(
        batch=rng.randint(1, 4),
        in_channels=rng.randint(1, 24),
        out_channels=rng.randint(2, 48),
        length=rng.randint(k, 300),
        kernel_size=k,
    )


class Model(nn.Module):
    """h[b, o, l] = conv_bias[o] + sum_{c, p} W[o, c, p] * x[b, c, l + p] (valid, stride 1);
    g = gelu(h) = 0.5 * h * (1 + erf(h / sqrt(2)));
    t[b, l, o] = g[b, o, l];
    y[b, l, :] = (t[b, l, :] - mean) / sqrt(var + eps) * ln_weight + ln_bias, with the mean
    and biased variance of t[b, l, :] over the C_out channels; y is (batch, length - k + 1, C_out).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, eps: float):
        super().__init__()
        self.eps = eps
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size)
        self.ln_weight = nn.Parameter(1 + 0.5 * torch.randn(out_channels))
        self.ln_bias = nn.Parameter(0.5 * torch.randn(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = F.gelu(self.conv(x)).transpose(1, 2)
        return F.layer_norm(t, (t.shape[-1],), self.ln_weight, self.ln_bias, self.eps)


def get_inputs(batch=4, in_channels=32, length=512):
    return [torch.randn(batch, in_channels, length) * 2]


def get_init_inputs(in_channels=32, out_channels=64, kernel_size=3, eps=1e-5):
    return [in_channels, out_channels, kernel_size, eps]
