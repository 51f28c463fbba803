"""Huber loss (delta = 2) between heavy-tailed predictions and targets, a scalar."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "loss"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1, dim=1),
    dict(batch=1000, dim=3, delta=0.5),
]

SCALES = {"gpu": dict(batch=16384, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 5000))


class Model(nn.Module):
    """d = prediction - target;  l = 0.5 * d^2 if |d| <= delta else delta * (|d| - 0.5 * delta);
    loss = mean over all (b, j) of l, a 0-dim tensor."""

    def __init__(self, delta: float = 2.0):
        super().__init__()
        self.delta = delta

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.huber_loss(prediction, target, reduction="mean", delta=self.delta)


def get_inputs(batch=256, dim=4096):
    # Heavy tails, and rows of different magnitudes.
    prediction = torch.randn(batch, dim) * torch.exp(
        torch.randn(batch, dim) + torch.randn(batch, 1)
    )
    return [prediction, torch.randn(batch, dim)]


def get_init_inputs(delta=2.0):
    return [delta]
