"""Row selection: x.index_select(0, index) of an (n, dim) matrix by a 1-D int64 index."""

import torch
import torch.nn as nn

CATEGORY = "index"

CONFIGS = [
    dict(n=1001, dim=129, k=4097),
    dict(n=1, dim=1000, k=3),
    dict(n=5000, dim=1, k=777),
]

SCALES = {"gpu": dict(n=262144, dim=1024, k=131072)}


def sample_config(rng):
    return dict(n=rng.randint(1, 3000), dim=rng.randint(1, 300), k=rng.randint(1, 3000))


class Model(nn.Module):
    """y[i, :] = x[index[i], :] for index of shape (k,) with 0 <= index < n (repeats allowed)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return x.index_select(0, index)


def get_inputs(n=4096, dim=256, k=2048):
    x = torch.randn(n, dim)
    index = torch.randint(0, n, (k,))
    return [x, index]


def get_init_inputs():
    return []
