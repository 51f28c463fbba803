"""A LLaMA MLP block: RMSNorm, then a SwiGLU feed-forward, plus a residual."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=3, seq=77, dim=96, hidden=257),
    dict(batch=1, seq=1, dim=64, hidden=172),
    dict(batch=2, seq=130, dim=2, hidden=5),
]

SCALES = {"gpu": dict(batch=8, seq=2048, dim=4096, hidden=11008)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 3),
        seq=rng.randint(1, 150),
        dim=rng.randint(2, 128),
        hidden=rng.randint(1, 350),
    )


class Model(nn.Module):
    """x (batch, seq, dim). n = x / sqrt(mean(x^2 over dim) + 1e-6) * norm_weight;
    y = x + (silu(n @ w_gate^T) * (n @ w_up^T)) @ w_down^T, silu(z) = z * sigmoid(z),
    w_gate and w_up (hidden, dim), w_down (dim, hidden), no biases."""

    def __init__(self, dim: int, hidden: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.norm_weight = nn.Parameter(1 + 0.2 * torch.randn(dim))
        self.gate = nn.Linear(dim, hidden, bias=False)
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.norm_weight
        return x + self.down(F.silu(self.gate(n)) * self.up(n))


def get_inputs(batch=4, seq=64, dim=256):
    return [torch.randn(batch, seq, dim) * 2]


def get_init_inputs(dim=256, hidden=688):
    return [dim, hidden]
