"""Summed cross-entropy of logits against int64 targets; the logits' gradient is checked too."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "loss"
BACKWARD = True
# The loss is a sum over the batch (not a mean) so that the logits' gradient is of order
# 1 / classes rather than 1 / (batch * classes), far above the absolute tolerance.

CONFIGS = [
    dict(batch=7, classes=1001),
    dict(batch=1, classes=2),
    dict(batch=3000, classes=3),
]

SCALES = {"gpu": dict(batch=8192, classes=32768)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 300), classes=rng.randint(2, 2000))


class Model(nn.Module):
    """loss = sum_b (logsumexp_c logits[b, c] - logits[b, target[b]]), a scalar;
    dlogits[b, c] = (softmax(logits[b])[c] - [c == target[b]]) * dloss."""

    def __init__(self):
        super().__init__()

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target, reduction="sum")


def get_inputs(batch=4096, classes=100):
    logits = torch.randn(batch, classes) * 2
    return [logits, torch.randint(0, classes, (batch,))]


def get_init_inputs():
    return []
