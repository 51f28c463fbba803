"""Scaled Mish plus a residual: x * tanh(softplus(x)) * alpha + x, elementwise."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, dim=1000),
    dict(batch=1, dim=4097, alpha=-1.5),
    dict(batch=2049, dim=3),
]

SCALES = {"gpu": dict(batch=32768, dim=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 128), dim=rng.randint(1, 1000))


class Model(nn.Module):
    """y = x * tanh(softplus(x)) * alpha + x, softplus(t) = log(1 + exp(t)) (taken as t where
    t > 20, as torch's softplus does); x and y are (batch, dim)."""

    def __init__(self, alpha: float):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tanh(F.softplus(x)) * self.alpha + x


def get_inputs(batch=1024, dim=1024):
    return [torch.randn(batch, dim) * 3]


def get_init_inputs(alpha=0.5):
    return [alpha]
