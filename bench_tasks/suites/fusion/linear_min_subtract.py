"""Linear layer, then elementwise minimum with a constant c, then c subtracted."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70),
    dict(batch=1, in_features=257, out_features=129, c=-0.25),
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
    """y = min(x @ weight^T + bias, c) - c, elementwise with the constant c."""

    def __init__(self, in_features: int, out_features: int, c: float):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.c = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp_max(self.linear(x), self.c) - self.c


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 2]


def get_init_inputs(in_features=512, out_features=512, c=0.5):
    return [in_features, out_features, c]
