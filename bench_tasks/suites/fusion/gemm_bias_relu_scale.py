"""Linear layer (GEMM plus bias), then ReLU, then multiplication by a constant scale."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70),
    dict(batch=1, in_features=257, out_features=129, scale=-1.5),
    dict(batch=300, in_features=7, out_features=1000),
]

SCALES = {"gpu": dict(batch=8192, in_features=4096, out_features=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 64),
        in_features=rng.randint(1, 300),
        out_features=rng.randint(1, 300),
        scale=rng.choice([0.5, 2.0, -0.75]),
    )


class Model(nn.Module):
    """y = relu(x @ weight^T + bias) * scale; x (batch, in_features), y (batch, out_features)."""

    def __init__(self, in_features: int, out_features: int, scale: float):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x)) * self.scale


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 2]


def get_init_inputs(in_features=512, out_features=512, scale=0.5):
    return [in_features, out_features, scale]
