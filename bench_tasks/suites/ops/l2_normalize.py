"""L2-normalize each row of a (batch, dim) matrix (F.normalize over the last dimension)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "norm"

CONFIGS = [
    dict(batch=7, dim=4099),
    dict(batch=1000, dim=1),
    dict(batch=1, dim=12345),
]

SCALES = {"gpu": dict(batch=32768, dim=8192)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 64), dim=rng.randint(1, 5000))


class Model(nn.Module):
    """y[b, j] = x[b, j] / max(sqrt(sum_i x[b, i]^2), eps)."""

    def __init__(self, eps: float = 1e-12):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, p=2.0, dim=-1, eps=self.eps)


def get_inputs(batch=256, dim=4096):
    # Rows of very different magnitudes.
    return [torch.randn(batch, dim) * torch.exp(torch.randn(batch, 1) * 2)]


def get_init_inputs(eps=1e-12):
    return [eps]
