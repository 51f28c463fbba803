"""Causal scaled dot-product attention of q, k, v, with the gradients of q, k and v checked too."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "attention"
BACKWARD = True

CONFIGS = [
    dict(batch=1, heads=3, seq=77, head_dim=32),
    dict(batch=2, heads=1, seq=1, head_dim=64),
    dict(batch=3, heads=2, seq=129, head_dim=17),
]

SCALES = {"gpu": dict(batch=8, heads=16, seq=4096, head_dim=128)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 3),
        heads=rng.randint(1, 4),
        seq=rng.randint(1, 200),
        head_dim=rng.randint(1, 96),
    )


class Model(nn.Module):
    """s = q @ k^T / sqrt(head_dim) over (batch, heads, seq, head_dim), s[.., i, j] = -inf for
    j > i; out = softmax(s, dim=-1) @ v; gradients for q, k and v."""

    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def get_inputs(batch=2, heads=4, seq=256, head_dim=64):
    shape = (batch, heads, seq, head_dim)
    return [torch.randn(shape), torch.randn(shape), torch.randn(shape)]


def get_init_inputs():
    return []
