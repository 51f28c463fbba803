"""Dense matrix product C = A @ B in float32."""

import torch
import torch.nn as nn

CATEGORY = "matmul"

CONFIGS = [
    dict(M=128, K=512, N=64),
    dict(M=97, K=33, N=250),
]


def sample_config(rng):
    return dict(M=rng.randint(1, 300), K=rng.randint(1, 300), N=rng.randint(1, 300))


class Model(nn.Module):
    """C[m, n] = sum_k A[m, k] * B[k, n]."""

    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        return torch.matmul(A, B)


def get_inputs(M=256, K=256, N=256):
    return [torch.randn(M, K), torch.randn(K, N)]


def get_init_inputs():
    return []
