"""Planted lint case: the output is the model's weight, whatever the input."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight.expand(x.shape[0], -1).clone()


def get_inputs(batch=8, dim=256):
    return [torch.randn(batch, dim)]


def get_init_inputs(dim=256):
    return [dim]
