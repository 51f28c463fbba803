"""Batched a @ b^T, softmax over the last dimension, then batched product with c."""

import math

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=3, m=77, n=50, k=33, p=17),
    dict(batch=1, m=1, n=257, k=64, p=128),
    dict(batch=5, m=200, n=3, k=1, p=96),
]

SCALES = {"gpu": dict(batch=32, m=4096, n=4096, k=128, p=128)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        m=rng.randint(1, 200),
        n=rng.randint(2, 200),
        k=rng.randint(1, 128),
        p=rng.randint(1, 128),
    )


class Model(nn.Module):
    """s = a @ b^T per batch;  w[.., i, j] = exp(s[.., i, j]) / sum_l exp(s[.., i, l]);  y = w @ c.
    a (batch, m, k), b (batch, n, k), c (batch, n, p), y (batch, m, p); no scaling of s."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(torch.bmm(a, b.transpose(1, 2)), dim=-1)
        return torch.bmm(w, c)


def get_inputs(batch=8, m=256, n=256, k=64, p=64):
    a = torch.randn(batch, m, k) * (2 / math.sqrt(k))
    return [a, torch.randn(batch, n, k), torch.randn(batch, n, p)]


def get_init_inputs():
    return []
