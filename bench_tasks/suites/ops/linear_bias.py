"""Fully connected layer y = x @ weight^T + bias (nn.Linear with bias)."""

import torch
import torch.nn as nn

CATEGORY = "matmul"

CONFIGS = [
    dict(batch=100, in_features=257, out_features=300),
    dict(batch=1, in_features=1000, out_features=129),
    dict(batch=333, in_features=1, out_features=17),
]

SCALES = {"gpu": dict(batch=8192, in_features=8192, out_features=8192)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 300),
        in_features=rng.randint(1, 300),
        out_features=rng.randint(1, 300),
    )


class Model(nn.Module):
    """y[b, o] = sum_i x[b, i] * weight[o, i] + bias[o]; weight (out_features, in_features),
    output shape (batch, out_features)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features)]


def get_init_inputs(in_features=512, out_features=512):
    return [in_features, out_features]
