"""Classifier head: linear layer, log-softmax over classes, mean NLL of int64 targets."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, in_features=100, classes=70),
    dict(batch=1, in_features=257, classes=1001),
    dict(batch=300, in_features=7, classes=2),
]

SCALES = {"gpu": dict(batch=8192, in_features=4096, classes=32000)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 64),
        in_features=rng.randint(1, 300),
        classes=rng.randint(2, 500),
    )


class Model(nn.Module):
    """z = x @ weight^T + bias (batch, classes);  lp[b, j] = z[b, j] - log(sum_l exp(z[b, l]));
    loss = -(1 / batch) * sum_b lp[b, target[b]], a scalar; target is int64 in [0, classes)."""

    def __init__(self, in_features: int, classes: int):
        super().__init__()
        self.linear = nn.Linear(in_features, classes)

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        lp = F.log_softmax(self.linear(x), dim=-1)
        return -lp.gather(1, target[:, None]).mean()


def get_inputs(batch=256, in_features=512, classes=512):
    return [torch.randn(batch, in_features) * 4, torch.randint(0, classes, (batch,))]


def get_init_inputs(in_features=512, classes=512):
    return [in_features, classes]
