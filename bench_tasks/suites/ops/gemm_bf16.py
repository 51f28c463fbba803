"""Dense matrix product C = A @ B in bfloat16, A (m, k) and B (k, n)."""

import torch
import torch.nn as nn

CATEGORY = "matmul"
# bfloat16 output: one ulp is up to 2^-7 relative; lint's bfloat16 default, which eager meets.
ATOL = 3e-2
RTOL = 3e-2

CONFIGS = [
    dict(m=100, k=257, n=300),
    dict(m=1, k=1000, n=129),
    dict(m=333, k=1, n=17),
]

SCALES = {"gpu": dict(m=8192, k=8192, n=8192)}


def sample_config(rng):
    return dict(m=rng.randint(1, 300), k=rng.randint(1, 300), n=rng.randint(1, 300))


class Model(nn.Module):
    """C[i, j] = sum_p A[i, p] * B[p, j], bfloat16 inputs and bfloat16 output of shape (m, n)."""

    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        return torch.matmul(A, B)


def get_inputs(m=256, k=512, n=512):
    return [torch.randn(m, k, dtype=torch.bfloat16), torch.randn(k, n, dtype=torch.bfloat16)]


def get_init_inputs():
    return []
