"""Matrix product of two inputs, with the gradients of both checked too."""

import torch
import torch.nn as nn

CATEGORY = "matmul"
BACKWARD = True

CONFIGS = [
    dict(m=127, k=33, n=65),
    dict(m=1, k=1000, n=3),
    dict(m=300, k=1, n=257),
]

SCALES = {"gpu": dict(m=8192, k=8192, n=8192)}


def sample_config(rng):
    return dict(m=rng.randint(1, 300), k=rng.randint(1, 600), n=rng.randint(1, 600))


class Model(nn.Module):
    """c = a @ b with a (m, k) and b (k, n); da = dc @ b^T, db = a^T @ dc."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b


def get_inputs(m=256, k=512, n=512):
    return [torch.randn(m, k), torch.randn(k, n)]


def get_init_inputs():
    return []
