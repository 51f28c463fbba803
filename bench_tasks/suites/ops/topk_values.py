"""Top-k values along the last dimension of a (batch, n) matrix, largest first."""

import torch
import torch.nn as nn

CATEGORY = "index"

CONFIGS = [
    dict(batch=3, n=1001, k=1001),
    dict(batch=257, n=1, k=1),
    dict(batch=1, n=50000, k=7),
    dict(batch=129, n=300, k=129),
]

SCALES = {"gpu": dict(batch=65536, n=4096, k=64)}


def sample_config(rng):
    n = rng.randint(1, 3000)
    return dict(batch=rng.randint(1, 64), n=n, k=rng.randint(1, n))


class Model(nn.Module):
    """y[b, :] = the k largest values of x[b, :], in descending order (y has shape (batch, k);
    equal values appear as often as they occur)."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.topk(x, self.k, dim=-1).values


def get_inputs(batch=512, n=2048):
    return [torch.randn(batch, n)]


def get_init_inputs(k=64):
    return [k]
