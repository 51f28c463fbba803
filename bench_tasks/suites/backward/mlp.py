"""Two linear layers with a GELU between; the input and all parameter gradients are checked too."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "full_arch"
BACKWARD = True

CONFIGS = [
    dict(batch=33, in_features=100, hidden=257, out_features=70),
    dict(batch=1, in_features=1, hidden=64, out_features=1),
    dict(batch=129, in_features=65, hidden=3, out_features=300),
]

SCALES = {"gpu": dict(batch=8192, in_features=4096, hidden=16384, out_features=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 200),
        in_features=rng.randint(1, 300),
        hidden=rng.randint(1, 600),
        out_features=rng.randint(1, 300),
    )


class Model(nn.Module):
    """h = gelu(x @ w1^T + b1) with gelu(z) = 0.5 z (1 + erf(z / sqrt(2))); y = h @ w2^T + b2;
    gradients for x, w1, b1, w2 and b2."""

    def __init__(self, in_features: int, hidden: int, out_features: int):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


def get_inputs(batch=256, in_features=256):
    return [torch.randn(batch, in_features)]


def get_init_inputs(in_features=256, hidden=512, out_features=256):
    return [in_features, hidden, out_features]
