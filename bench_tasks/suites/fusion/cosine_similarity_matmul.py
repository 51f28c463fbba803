"""Cosine-similarity matrix: L2-normalize the rows of x and of a weight, then x_n @ w_n^T."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(m=33, k=100, n=70),
    dict(m=1, k=257, n=129),
    dict(m=300, k=3, n=1000),
]

SCALES = {"gpu": dict(m=8192, k=4096, n=4096)}


def sample_config(rng):
    return dict(m=rng.randint(1, 64), k=rng.randint(2, 300), n=rng.randint(1, 300))


class Model(nn.Module):
    """x_n[i] = x[i] / max(||x[i]||_2, eps);  w_n[j] = weight[j] / max(||weight[j]||_2, eps);
    y[i, j] = sum_k x_n[i, k] * w_n[j, k].  x (m, k), weight (n, k), y (m, n)."""

    def __init__(self, k: int, n: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n, k))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_n = F.normalize(x, p=2.0, dim=-1, eps=self.eps)
        w_n = F.normalize(self.weight, p=2.0, dim=-1, eps=self.eps)
        return x_n @ w_n.t()


def get_inputs(m=256, k=512):
    return [torch.randn(m, k) * torch.exp(torch.randn(m, 1))]


def get_init_inputs(k=512, n=512, eps=1e-8):
    return [k, n, eps]
