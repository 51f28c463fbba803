"""Causal scaled dot-product attention over (batch, heads, seq, head_dim) q, k, v."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "attention"

CONFIGS = [
    dict(batch=1, heads=3, seq=77, head_dim=40),
    dict(batch=3, heads=1, seq=1, head_dim=64),
    dict(batch=2, heads=5, seq=130, head_dim=17),
]

SCALES = {"gpu": dict(batch=8, heads=16, seq=4096, head_dim=128)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 3),
        heads=rng.randint(1, 6),
        seq=rng.randint(1, 200),
        head_dim=rng.randint(1, 96),
    )


class Model(nn.Module):
    """s[b, h, i, j] = q[b, h, i] . k[b, h, j] / sqrt(head_dim) for j <= i (-inf for j > i);
    out[b, h, i] = sum_j softmax_j(s[b, h, i, :]) * v[b, h, j]. q, k, v and out are
    (batch, heads, seq, head_dim); query i sees keys 0..i."""

    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def get_inputs(batch=2, heads=4, seq=256, head_dim=64):
    shape = (batch, heads, seq, head_dim)
    return [torch.randn(shape) * 1.5, torch.randn(shape) * 1.5, torch.randn(shape)]


def get_init_inputs():
    return []
