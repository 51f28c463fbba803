"""A linear layer with bias, with gradients of the input, weight and bias checked too."""

import torch
import torch.nn as nn

CATEGORY = "matmul"
BACKWARD = True

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70),
    dict(batch=1, in_features=513, out_features=1),
    dict(batch=257, in_features=3, out_features=129),
]

SCALES = {"gpu": dict(batch=8192, in_features=8192, out_features=8192)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 300),
        in_features=rng.randint(1, 600),
        out_features=rng.randint(1, 600),
    )


class Model(nn.Module):
    """y = x @ weight^T + bias, weight (out_features, in_features);
    dx = dy @ weight, dweight = dy^T @ x, dbias = sum over rows of dy."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features)]


def get_init_inputs(in_features=512, out_features=512):
    return [in_features, out_features]
