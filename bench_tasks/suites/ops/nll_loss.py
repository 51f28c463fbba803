"""Negative log-likelihood of (batch, classes) log-probabilities and int64 targets, a scalar."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "loss"

CONFIGS = [
    dict(batch=7, classes=4099),
    dict(batch=1, classes=2),
    dict(batch=1000, classes=3),
]

SCALES = {"gpu": dict(batch=16384, classes=16384)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), classes=rng.randint(2, 5000))


class Model(nn.Module):
    """loss = -(1 / batch) * sum_b log_probs[b, target[b]], a 0-dim tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, log_probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.nll_loss(log_probs, target, reduction="mean")


def get_inputs(batch=1024, classes=1000):
    logits = torch.randn(batch, classes) * torch.exp(torch.randn(batch, classes))
    log_probs = torch.log_softmax(logits, dim=-1)
    return [log_probs, torch.randint(0, classes, (batch,))]


def get_init_inputs():
    return []
