"""A linear layer followed by ReLU, with gradients checked (forward and backward)."""

import torch
import torch.nn as nn

CATEGORY = "fusion"
BACKWARD = True

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70),
]


class Model(nn.Module):
    """y = relu(x @ weight^T + bias); gradients for x, weight and bias."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


def get_inputs(batch=64, in_features=256):
    return [torch.randn(batch, in_features)]


def get_init_inputs(in_features=256, out_features=128):
    return [in_features, out_features]
