"""Planted lint case: a 4 MiB config and a 64 GiB config of an elementwise op."""

import torch
import torch.nn as nn

CONFIGS = [
    dict(n=1 << 20),
    dict(n=1 << 34),
]


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 + 1


def get_inputs(n=256):
    return [torch.randn(n)]


def get_init_inputs():
    return []
