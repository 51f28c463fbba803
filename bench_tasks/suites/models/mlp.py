"""A three-layer perceptron (linear, ReLU, linear, ReLU, linear) over a (batch, features) matrix."""

import torch
import torch.nn as nn

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=33, in_features=100, hidden=257, out_features=10),
    dict(batch=1, in_features=1, hidden=64, out_features=1),
    dict(batch=300, in_features=65, hidden=3, out_features=129),
]

SCALES = {"gpu": dict(batch=8192, in_features=8192, hidden=8192, out_features=8192)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 200),
        in_features=rng.randint(1, 400),
        hidden=rng.randint(1, 400),
        out_features=rng.randint(1, 200),
    )


class Model(nn.Module):
    """h1 = relu(x @ w1^T + b1); h2 = relu(h1 @ w2^T + b2); y = h2 @ w3^T + b3,
    w1 (hidden, in_features), w2 (hidden, hidden), w3 (out_features, hidden)."""

    def __init__(self, in_features: int, hidden: int, out_features: int):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features)]


def get_init_inputs(in_features=512, hidden=512, out_features=256):
    return [in_features, hidden, out_features]
