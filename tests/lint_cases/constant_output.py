"""Planted lint case: the output is 1 everywhere, whatever the input."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0 + 1


def get_inputs(batch=8, dim=256):
    return [torch.randn(batch, dim)]


def get_init_inputs():
    return []
