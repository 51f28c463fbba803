"""Matrix-vector product y = A @ x with A (m, k) and x (k,)."""

import torch
import torch.nn as nn

CATEGORY = "matmul"

CONFIGS = [
    dict(m=1000, k=257),
    dict(m=1, k=4099),
    dict(m=3001, k=1),
]

SCALES = {"gpu": dict(m=16384, k=16384)}


def sample_config(rng):
    return dict(m=rng.randint(1, 2000), k=rng.randint(1, 2000))


class Model(nn.Module):
    """y[i] = sum_p A[i, p] * x[p]; output shape (m,)."""

    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(A, x)


def get_inputs(m=1024, k=1024):
    return [torch.randn(m, k), torch.randn(k)]


def get_init_inputs():
    return []
