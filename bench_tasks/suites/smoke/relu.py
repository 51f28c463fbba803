"""ReLU over a (batch_size, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "activation"

batch_size = 16
dim = 16384


class Model(nn.Module):
    """y = max(x, 0), elementwise."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
