"""Mean squared error between heavy-tailed predictions and targets, a scalar."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "loss"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1, dim=1),
    dict(batch=1000, dim=3),
]

SCALES = {"gpu": dict(batch=16384, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 5000))


class Model(nn.Module):
    """loss = (1 / (batch * dim)) * sum_{b, j} (prediction[b, j] - target[b, j])^2,
    a 0-dim tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(prediction, target, reduction="mean")


def get_inputs(batch=256, dim=4096):
    # Heavy tails, and rows of different magnitudes.
    prediction = torch.randn(batch, dim) * torch.exp(
        torch.randn(batch, dim) + torch.randn(batch, 1)
    )
    return [prediction, torch.randn(batch, dim)]


def get_init_inputs():
    return []
