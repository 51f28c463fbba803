"""KL divergence (batchmean) between a target distribution and log-probabilities, a scalar."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "loss"

CONFIGS = [
    dict(batch=7, classes=4099),
    dict(batch=1, classes=2),
    dict(batch=1000, classes=3),
]

SCALES = {"gpu": dict(batch=16384, classes=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), classes=rng.randint(2, 5000))


class Model(nn.Module):
    """loss = (1 / batch) * sum_{b, c} target[b, c] * (log(target[b, c]) - log_probs[b, c]),
    a term being 0 where target[b, c] == 0 (F.kl_div, reduction "batchmean"); a 0-dim tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, log_probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.kl_div(log_probs, target, reduction="batchmean")


def get_inputs(batch=1024, classes=1000):
    logits = torch.randn(batch, classes) * torch.exp(torch.randn(batch, classes))
    target_logits = torch.randn(batch, classes) * torch.exp(torch.randn(batch, classes))
    return [torch.log_softmax(logits, dim=-1), torch.softmax(target_logits, dim=-1)]


def get_init_inputs():
    return []
