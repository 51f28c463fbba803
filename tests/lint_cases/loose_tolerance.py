"""Planted lint case: outputs of size about 2 checked with an absolute tolerance of 10."""

import torch
import torch.nn as nn

ATOL = 10.0


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x


def get_inputs(batch=8, dim=256):
    return [torch.randn(batch, dim)]


def get_init_inputs():
    return []
