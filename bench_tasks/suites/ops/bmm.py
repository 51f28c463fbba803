"""Batched matrix product C[b] = A[b] @ B[b] with A (batch, m, k) and B (batch, k, n)."""

import torch
import torch.nn as nn

CATEGORY = "matmul"

CONFIGS = [
    dict(batch=3, m=100, k=257, n=60),
    dict(batch=1, m=1, k=1000, n=129),
    dict(batch=17, m=33, k=1, n=17),
]

SCALES = {"gpu": dict(batch=16, m=4096, k=4096, n=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 8),
        m=rng.randint(1, 128),
        k=rng.randint(1, 128),
        n=rng.randint(1, 128),
    )


class Model(nn.Module):
    """C[b, i, j] = sum_p A[b, i, p] * B[b, p, j]; output shape (batch, m, n)."""

    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        return torch.bmm(A, B)


def get_inputs(batch=8, m=128, k=256, n=256):
    return [torch.randn(batch, m, k), torch.randn(batch, k, n)]


def get_init_inputs():
    return []
