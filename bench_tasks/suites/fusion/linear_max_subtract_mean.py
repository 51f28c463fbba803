"""Linear layer, then each row minus its maximum, then the mean over the output features."""

import torch
import torch.nn as nn

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70),
    dict(batch=1, in_features=257, out_features=129),
    dict(batch=300, in_features=7, out_features=1000),
]

SCALES = {"gpu": dict(batch=8192, in_features=4096, out_features=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 64),
        in_features=rng.randint(1, 300),
        out_features=rng.randint(2, 300),
    )


class Model(nn.Module):
    """h = x @ weight^T + bias;  m[b] = max_j h[b, j] (the value);
    y[b, 0] = (1 / out_features) * sum_j (h[b, j] - m[b]); y has shape (batch, 1)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x)
        m = h.amax(dim=-1, keepdim=True)
        return (h - m).mean(dim=-1, keepdim=True)


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 2]


def get_init_inputs(in_features=512, out_features=512):
    return [in_features, out_features]
