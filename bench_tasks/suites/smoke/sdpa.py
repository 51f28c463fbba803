"""Scaled dot-product attention without a mask."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "attention"

CONFIGS = [
    dict(batch=1, heads=3, seq=77, head_dim=32),
]


class Model(nn.Module):
    """out = softmax(q @ k^T / sqrt(head_dim)) @ v over (batch, heads, seq, head_dim)."""

    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)


def get_inputs(batch=2, heads=4, seq=128, head_dim=64):
    shape = (batch, heads, seq, head_dim)
    return [torch.randn(shape), torch.randn(shape), torch.randn(shape)]


def get_init_inputs():
    return []
