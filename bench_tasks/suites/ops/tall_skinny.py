"""Rank-16 matrix product C = A @ B with A (m, 16) and B (16, n), large m and n."""

import torch
import torch.nn as nn

CATEGORY = "matmul"

CONFIGS = [
    dict(m=1000, n=257),
    dict(m=1, n=4099),
    dict(m=3001, n=1),
]

SCALES = {"gpu": dict(m=16384, n=16384)}


def sample_config(rng):
    return dict(m=rng.randint(1, 1000), n=rng.randint(1, 500))


class Model(nn.Module):
    """C[i, j] = sum_{p < 16} A[i, p] * B[p, j]; output shape (m, n)."""

    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        return torch.matmul(A, B)


def get_inputs(m=1024, n=1024):
    return [torch.randn(m, 16), torch.randn(16, n)]


def get_init_inputs():
    return []
