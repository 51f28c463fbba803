"""Rotary position embedding (rotate-half form) on q of shape (batch, seq, heads, head_dim)."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=3, seq=77, heads=5, head_dim=32),
    dict(batch=1, seq=1, heads=1, head_dim=258),
    dict(batch=2, seq=1000, heads=3, head_dim=2),
]

SCALES = {"gpu": dict(batch=8, seq=4096, heads=32, head_dim=128)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        seq=rng.randint(1, 100),
        heads=rng.randint(1, 4),
        head_dim=2 * rng.randint(1, 64),
    )


class Model(nn.Module):
    """h = head_dim / 2;  q1 = q[..., :h], q2 = q[..., h:];  with cos, sin of shape (seq, h)
    broadcast over batch and heads (cos[s, i] = cos(s * base^(-2i/head_dim)), likewise sin):
    y[..., :h] = q1 * cos - q2 * sin;  y[..., h:] = q2 * cos + q1 * sin."""

    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        h = q.shape[-1] // 2
        q1, q2 = q[..., :h], q[..., h:]
        c = cos[None, :, None, :]
        s = sin[None, :, None, :]
        return torch.cat([q1 * c - q2 * s, q2 * c + q1 * s], dim=-1)


def get_inputs(batch=4, seq=256, heads=16, head_dim=64, base=10000.0):
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    angles = torch.arange(seq, dtype=torch.float64)[:, None] * inv_freq[None, :]
    q = torch.randn(batch, seq, heads, head_dim) * 2
    return [q, torch.cos(angles).float(), torch.sin(angles).float()]


def get_init_inputs():
    return []
