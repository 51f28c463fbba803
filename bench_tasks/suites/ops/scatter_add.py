"""Scatter-add along dim 1 into a fresh zero (batch, n) matrix: zeros.scatter_add(1, idx, src)."""

import torch
import torch.nn as nn

CATEGORY = "index"

CONFIGS = [
    dict(batch=3, n=1001, k=4097),
    dict(batch=257, n=1, k=3),
    dict(batch=1, n=777, k=777),
]

SCALES = {"gpu": dict(batch=8192, n=8192, k=16384)}


def sample_config(rng):
    n = rng.randint(1, 2000)
    return dict(batch=rng.randint(1, 64), n=n, k=rng.randint(n, 3 * n))


class Model(nn.Module):
    """y = zeros(batch, n); for every b, j: y[b, idx[b, j]] += src[b, j]. Duplicate indices in a row
    add up; positions no index names stay 0. idx and src have shape (batch, k), 0 <= idx < n."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, idx: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(src.shape[0], self.n, dtype=src.dtype, device=src.device)
        return out.scatter_add(1, idx, src)


def get_inputs(batch=256, n=1024, k=2048):
    idx = torch.randint(0, n, (batch, k))
    src = torch.randn(batch, k)
    return [idx, src]


def get_init_inputs(n=1024):
    return [n]
