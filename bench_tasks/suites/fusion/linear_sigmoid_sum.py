"""Linear layer, then sigmoid, then a sum over the output features of each row."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70),
    dict(batch=1, in_features=257, out_features=129),
    dict(batch=300, in_features=7, out_features=1000),
]

SCALES = {"gpu": dict(batch=8192, in_features=4096, out_features=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 64),
        in_features=rng.randint(1, 300),
        out_features=rng.randint(1, 300),
    )


class Model(nn.Module):
    """y[b] = sum_j sigmoid((x @ weight^T + bias)[b, j]); x (batch, in_features), y (batch,)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(x)).sum(dim=-1)


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 3]


def get_init_inputs(in_features=512, out_features=512):
    return [in_features, out_features]
