"""PReLU with one learned slope per channel over a (batch, channels, length) tensor."""

import torch
import torch.nn as nn

CATEGORY = "activation"

CONFIGS = [
    dict(batch=1, channels=3, length=4099),
    dict(batch=2, channels=1, length=37),
    dict(batch=5, channels=129, length=257),
]

SCALES = {"gpu": dict(batch=256, channels=256, length=4096)}


def sample_config(rng):
    return dict(batch=rng.randint(1, 8), channels=rng.randint(1, 96), length=rng.randint(1, 1024))


class Model(nn.Module):
    """y[b, c, l] = x[b, c, l] if x[b, c, l] >= 0 else weight[c] * x[b, c, l], weight of shape
    (channels,), drawn uniformly from [0, 0.5)."""

    def __init__(self, channels: int):
        super().__init__()
        self.prelu = nn.PReLU(num_parameters=channels)
        # Distinct slopes per channel (nn.PReLU starts them all at 0.25).
        nn.init.uniform_(self.prelu.weight, 0.0, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prelu(x)


def get_inputs(batch=16, channels=64, length=512):
    return [torch.randn(batch, channels, length) * 3]


def get_init_inputs(channels=64):
    return [channels]
