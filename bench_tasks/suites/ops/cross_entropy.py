"""Cross-entropy loss of (batch, classes) logits against int64 class targets, a scalar."""

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
    """l[b] = logsumexp_c logits[b, c] - logits[b, target[b]];  loss = (1 / batch) * sum_b l[b],
    a 0-dim tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target, reduction="mean")


def get_inputs(batch=1024, classes=1000):
    # Heavy-tailed logits (some large enough to overflow exp without the max subtraction).
    logits = torch.randn(batch, classes) * torch.exp(torch.randn(batch, classes) * 1.5)
    return [logits, torch.randint(0, classes, (batch,))]


def get_init_inputs():
    return []
