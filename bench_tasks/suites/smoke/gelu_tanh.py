"""GELU with the tanh approximation over a (batch_size, dim) matrix."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "activation"

batch_size = 16
dim = 16384


class Model(nn.Module):
    """y = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))), elementwise."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
