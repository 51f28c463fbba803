"""Planted lint case: float16 row sums of 4096 values checked to 1e-4."""

import torch
import torch.nn as nn

ATOL = 1e-4
RTOL = 1e-4


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=-1)


def get_inputs(batch=16, dim=4096):
    return [torch.randn(batch, dim, dtype=torch.float16)]


def get_init_inputs():
    return []
