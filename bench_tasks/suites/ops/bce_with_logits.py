"""Binary cross-entropy with logits, heavy-tailed logits and {0, 1} float targets, a scalar."""

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
    """x = logits, t = target;  l = max(x, 0) - x * t + log(1 + exp(-|x|))
    (= -t log sigmoid(x) - (1 - t) log(1 - sigmoid(x)));  loss = mean over all (b, j) of l,
    a 0-dim tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, reduction="mean")


def get_inputs(batch=256, dim=4096):
    # Heavy tails, and rows of different magnitudes.
    logits = torch.randn(batch, dim) * torch.exp(torch.randn(batch, dim) + torch.randn(batch, 1))
    target = torch.randint(0, 2, (batch, dim)).float()
    return [logits, target]


def get_init_inputs():
    return []
