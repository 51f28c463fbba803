"""Smooth L1 loss (beta = 1) between heavy-tailed predictions and targets, a scalar."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "loss"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1, dim=1),
    dict(batch=1000, dim=3, beta=0.25),
]

SCALES = {"gpu": dict(batch=16384, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 5000))


class Model(nn.Module):
    """d = prediction - target;  l = 0.5 * d^2 / beta if |d| < beta else |d| - 0.5 * beta;
    loss = mean over all (b, j) of l, a 0-dim tensor."""

    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = beta

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.smooth_l1_loss(prediction, target, reduction="mean", beta=self.beta)


def get_inputs(batch=256, dim=4096):
    # Heavy tails, and rows of different magnitudes.
    prediction = torch.randn(batch, dim) * torch.exp(
        torch.randn(batch, dim) + torch.randn(batch, 1)
    )
    return [prediction, torch.randn(batch, dim)]


def get_init_inputs(beta=1.0):
    return [beta]
