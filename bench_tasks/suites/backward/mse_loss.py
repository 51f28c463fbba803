"""Summed squared error of a prediction against a target; both gradients are checked too."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "loss"
BACKWARD = True
# The loss is a sum (not a mean) so that its gradients, 2 (prediction - target) dloss, are of
# order one: a mean would make them about 1 / numel, which an all-zeros gradient would pass.

CONFIGS = [
    dict(batch=7, dim=4097),
    dict(batch=1, dim=1),
    dict(batch=1000, dim=33),
]

SCALES = {"gpu": dict(batch=16384, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 200), dim=rng.randint(1, 3000))


class Model(nn.Module):
    """loss = sum over all elements of (prediction - target)^2, a scalar;
    dprediction = 2 (prediction - target) dloss, dtarget = -dprediction."""

    def __init__(self):
        super().__init__()

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(prediction, target, reduction="sum")


def get_inputs(batch=256, dim=1024):
    shape = (batch, dim)
    prediction = torch.randn(shape) * torch.exp(torch.randn(shape))
    return [prediction, torch.randn(shape)]


def get_init_inputs():
    return []
