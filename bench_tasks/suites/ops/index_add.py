"""Row index-add: x.index_add(0, index, source) of an (n, dim) matrix, returning a new tensor."""

import torch
import torch.nn as nn

CATEGORY = "index"

CONFIGS = [
    dict(n=1001, dim=129, k=4097),
    dict(n=1, dim=1000, k=3),
    dict(n=5000, dim=1, k=777),
]

SCALES = {"gpu": dict(n=65536, dim=2048, k=131072)}


def sample_config(rng):
    return dict(n=rng.randint(1, 3000), dim=rng.randint(1, 300), k=rng.randint(1, 3000))


class Model(nn.Module):
    """y = copy of x; for every i: y[index[i], :] += source[i, :]. Duplicate indices add up.
    x is (n, dim), index is (k,) with 0 <= index < n, source is (k, dim)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, index: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        return x.index_add(0, index, source)


def get_inputs(n=2048, dim=256, k=4096):
    x = torch.randn(n, dim)
    index = torch.randint(0, n, (k,))
    source = torch.randn(k, dim)
    return [x, index, source]


def get_init_inputs():
    return []
