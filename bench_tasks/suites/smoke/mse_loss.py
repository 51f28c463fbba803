"""Mean squared error between two (batch_size, dim) matrices."""

import torch
import torch.nn as nn

CATEGORY = "loss"

batch_size = 128
dim = 4096


class Model(nn.Module):
    """loss = mean((prediction - target)^2), a scalar."""

    def __init__(self):
        super().__init__()

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.mean((prediction - target) ** 2)


def get_inputs():
    return [torch.randn(batch_size, dim), torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
