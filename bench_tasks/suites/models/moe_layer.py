"""Mixture of experts: each token to its top-2 of 4 MLP experts, picked from given router logits."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=3, tokens=77, dim=96, hidden=200),
    dict(batch=1, tokens=1, dim=64, hidden=64),
    dict(batch=2, tokens=300, dim=17, hidden=3),
]

SCALES = {"gpu": dict(batch=8, tokens=4096, dim=4096, hidden=8192)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 4),
        tokens=rng.randint(1, 150),
        dim=rng.randint(1, 128),
        hidden=rng.randint(1, 256),
    )


class Model(nn.Module):
    """x (batch, tokens, dim), router_logits (batch * tokens, experts), rows in the order of
    x.reshape(-1, dim). For each token r: e1, e2 = the indices of the two largest logits of row
    r; g1, g2 = softmax([logits[r, e1], logits[r, e2]]); y_r = g1 * expert_e1(x_r) +
    g2 * expert_e2(x_r), where expert_e(v) = gelu(v @ w1_e^T + b1_e) @ w2_e^T + b2_e,
    gelu(z) = 0.5 z (1 + erf(z / sqrt(2))), w1_e (hidden, dim), w2_e (dim, hidden).
    y has the shape of x."""

    def __init__(self, dim: int, hidden: int, experts: int = 4):
        super().__init__()
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
            for _ in range(experts)
        )

    def forward(self, x: torch.Tensor, router_logits: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        top_logits, top_experts = torch.topk(router_logits, 2, dim=-1)
        gates = F.softmax(top_logits, dim=-1)
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            token, slot = torch.where(top_experts == e)
            out.index_add_(0, token, expert(flat[token]) * gates[token, slot, None])
        return out.reshape(x.shape)


def get_inputs(batch=4, tokens=128, dim=256, experts=4):
    x = torch.randn(batch, tokens, dim)
    return [x, torch.randn(batch * tokens, experts) * 2]


def get_init_inputs(dim=256, hidden=512, experts=4):
    return [dim, hidden, experts]
