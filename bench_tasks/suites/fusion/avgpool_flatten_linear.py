"""2D average pooling, flattening to one feature vector per sample, then a linear layer."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "fusion"

CONFIGS = [
    dict(batch=3, channels=7, height=17, width=45, pool=3, out_features=100),
    dict(batch=1, channels=1, height=2, width=3, pool=2, out_features=1),
    dict(batch=33, channels=130, height=11, width=6, pool=5, out_features=257),
]

SCALES = {"gpu": dict(batch=256, channels=256, height=56, width=56, pool=4, out_features=4096)}


def sample_config(rng):
    pool = rng.randint(1, 4)
    return dict(
        batch=rng.randint(1, 16),
        channels=rng.randint(1, 16),
        height=rng.randint(pool, 24),
        width=rng.randint(pool, 24),
        pool=pool,
        out_features=rng.randint(1, 64),
    )


class Model(nn.Module):
    """a[b, c, s, t] = mean_{0 <= p, q < pool} x[b, c, pool * s + p, pool * t + q]
    (window = stride = pool, no padding, output Hp = floor(H / pool), Wp = floor(W / pool));
    f[b, (c * Hp + s) * Wp + t] = a[b, c, s, t] (row-major flatten);
    y = f @ weight^T + bias, weight (out_features, channels * Hp * Wp); y is (batch, out_features).
    """

    def __init__(self, channels: int, height: int, width: int, pool: int, out_features: int):
        super().__init__()
        self.pool = pool
        features = channels * (height // pool) * (width // pool)
        self.linear = nn.Linear(features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.avg_pool2d(x, self.pool)
        return self.linear(torch.flatten(a, 1))


def get_inputs(batch=16, channels=16, height=32, width=32):
    return [torch.randn(batch, channels, height, width) * 2]


def get_init_inputs(channels=16, height=32, width=32, pool=4, out_features=256):
    return [channels, height, width, pool, out_features]
