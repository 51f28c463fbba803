"""Planted lint case: a saturated sigmoid, nearly 1 everywhere, with the finding waived."""

import torch
import torch.nn as nn

LINT_WAIVERS = {
    "constant_output": "the saturated regime is the point: kernels must not overflow exp()",
}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x + 100.0)


def get_inputs(batch=8, dim=256):
    return [torch.randn(batch, dim)]


def get_init_inputs():
    return []
