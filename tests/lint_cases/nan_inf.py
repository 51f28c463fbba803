"""Planted lint case: the log of standard-normal values, so about half the output is NaN."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x)


def get_inputs(batch=8, dim=256):
    return [torch.randn(batch, dim)]


def get_init_inputs():
    return []
