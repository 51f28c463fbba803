"""Softmax along the last dimension of a (batch_size, dim) matrix."""

import torch
import torch.nn as nn

CATEGORY = "activation"
# Outputs are about 1 / dim, so the absolute tolerance must sit far below that.
ATOL = 1e-6

batch_size = 256
dim = 1024


class Model(nn.Module):
    """y[i, j] = exp(x[i, j]) / sum_k exp(x[i, k])."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
