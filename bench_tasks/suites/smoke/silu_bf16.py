"""SiLU over a bfloat16 (batch_size, dim) matrix."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "activation"

batch_size = 16
dim = 16384


class Model(nn.Module):
    """y = x * sigmoid(x), elementwise, in bfloat16."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(x)


def get_inputs():
    return [torch.randn(batch_size, dim, dtype=torch.bfloat16)]


def get_init_inputs():
    return []
