"""Matrix product C = A^T @ B with A stored as (k, m) and B as (k, n)."""

import torch
import torch.nn as nn

CATEGORY = "matmul"

CONFIGS = [
    dict(m=100, k=257, n=300),
    dict(m=1, k=1000, n=129),
    dict(m=333, k=1, n=17),
]

SCALES = {"gpu": dict(m=8192, k=8192, n=8192)}


def sample_config(rng):
    return dict(m=rng.randint(1, 300), k=rng.randint(1, 300), n=rng.randint(1, 300))


class Model(nn.Module):
    """C[i, j] = sum_p A[p, i] * B[p, j], A of shape (k, m), B of shape (k, n); output (m, n)."""

    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        return torch.matmul(A.T, B)


def get_inputs(m=256, k=512, n=512):
    return [torch.randn(k, m), torch.randn(k, n)]


def get_init_inputs():
    return []
