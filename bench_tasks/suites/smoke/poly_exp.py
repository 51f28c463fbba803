"""A Hermite polynomial times a Gaussian plus a linear term, elementwise."""

import torch
import torch.nn as nn

CATEGORY = "math"

batch_size = 16
dim = 16384


class Model(nn.Module):
    """y = (x^3 - 3x) * exp(-x^2 / 2) + 0.5 * x."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * x * x - 3.0 * x) * torch.exp(-0.5 * x * x) + 0.5 * x


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
