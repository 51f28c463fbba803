"""Linear layer, then group normalization over the output features, then hardtanh."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70, groups=7),
    dict(batch=1, in_features=257, out_features=129, groups=3),
    dict(batch=300, in_features=7, out_features=1000, groups=1),
]

SCALES = {"gpu": dict(batch=8192, in_features=4096, out_features=4096, groups=32)}


def sample_config(rng):
    groups = rng.randint(1, 16)
    return dict(
        batch=rng.randint(1, 64),
        in_features=rng.randint(1, 300),
        out_features=groups * rng.randint(2, 20),
        groups=groups,
    )


class Model(nn.Module):
    """h = x @ weight^T + bias, (batch, out_features) split into `groups` contiguous groups of
    out_features / groups features; per row and group
    n = (h - mean) / sqrt(var + eps) * gn_weight + gn_bias (biased var over the group);
    y = clamp(n, min_val, max_val)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        groups: int,
        eps: float,
        min_val: float,
        max_val: float,
    ):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.gn_weight = nn.Parameter(1 + 0.5 * torch.randn(out_features))
        self.gn_bias = nn.Parameter(0.5 * torch.randn(out_features))
        self.groups, self.eps = groups, eps
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x)
        n = F.group_norm(h, self.groups, self.gn_weight, self.gn_bias, self.eps)
        return F.hardtanh(n, self.min_val, self.max_val)


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 2]


def get_init_inputs(
    in_features=512, out_features=512, groups=16, eps=1e-5, min_val=-2.0, max_val=2.0
):
    return [in_features, out_features, groups, eps, min_val, max_val]
