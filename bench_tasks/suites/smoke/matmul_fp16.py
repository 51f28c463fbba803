"""Dense matrix product C = A @ B in float16."""

import torch
import torch.nn as nn

CATEGORY = "matmul"

CONFIGS = [
    dict(M=100, K=200, N=300),
    dict(M=64, K=1000, N=48),
]


class Model(nn.Module):
    """C[m, n] = sum_k A[m, k] * B[k, n], with float16 inputs and output."""

    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        return torch.matmul(A, B)


def get_inputs(M=256, K=256, N=256):
    return [torch.randn(M, K, dtype=torch.float16), torch.randn(K, N, dtype=torch.float16)]


def get_init_inputs():
    return []
