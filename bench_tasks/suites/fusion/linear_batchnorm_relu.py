"""Linear layer, then batch normalization with batch statistics (training mode), then ReLU."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=33, in_features=100, out_features=70),
    dict(batch=2, in_features=257, out_features=129),
    dict(batch=300, in_features=7, out_features=1000),
]

SCALES = {"gpu": dict(batch=8192, in_features=4096, out_features=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(2, 64),
        in_features=rng.randint(1, 300),
        out_features=rng.randint(1, 300),
    )


class Model(nn.Module):
    """h = x @ weight^T + bias (batch, out_features); per feature j, over the batch:
    n[:, j] = (h[:, j] - mean(h[:, j])) / sqrt(var(h[:, j]) + eps) * bn_weight[j] + bn_bias[j]
    (biased variance, as BatchNorm1d in training mode; running statistics are not used);
    y = relu(n)."""

    def __init__(self, in_features: int, out_features: int, eps: float):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.bn_weight = nn.Parameter(1 + 0.5 * torch.randn(out_features))
        self.bn_bias = nn.Parameter(0.5 * torch.randn(out_features))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x)
        n = F.batch_norm(h, None, None, self.bn_weight, self.bn_bias, training=True, eps=self.eps)
        return torch.relu(n)


def get_inputs(batch=256, in_features=512):
    return [torch.randn(batch, in_features) * 2]


def get_init_inputs(in_features=512, out_features=512, eps=1e-5):
    return [in_features, out_features, eps]
