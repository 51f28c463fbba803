"""Multi-head cross-attention: queries from one sequence, keys and values from another."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "attention"

CONFIGS = [
    dict(batch=3, seq=77, ctx_seq=50, dim=96, ctx_dim=33, heads=3),
    dict(batch=2, seq=1, ctx_seq=257, dim=64, ctx_dim=64, heads=4),
    dict(batch=1, seq=130, ctx_seq=1, dim=24, ctx_dim=7, heads=1),
]

SCALES = {"gpu": dict(batch=8, seq=4096, ctx_seq=2048, dim=2048, ctx_dim=1024, heads=16)}


def sample_config(rng):
    heads = rng.randint(1, 4)
    return dict(
        batch=rng.randint(1, 3),
        seq=rng.randint(1, 150),
        ctx_seq=rng.randint(1, 150),
        dim=heads * rng.randint(1, 48),
        ctx_dim=rng.randint(1, 100),
        heads=heads,
    )


class Model(nn.Module):
    """x (batch, seq, dim), context (batch, ctx_seq, ctx_dim). q = x @ wq^T + bq,
    k = context @ wk^T + bk, v = context @ wv^T + bv (wk, wv of shape (dim, ctx_dim)), each split
    into heads of head_dim = dim / heads; o = softmax(q k^T / sqrt(head_dim)) v per head (no
    mask), heads concatenated; y = o @ wo^T + bo, of shape (batch, seq, dim)."""

    def __init__(self, dim: int, ctx_dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(ctx_dim, dim)
        self.v = nn.Linear(ctx_dim, dim)
        self.out = nn.Linear(dim, dim)

    def split(self, t: torch.Tensor) -> torch.Tensor:
        b, s, d = t.shape
        return t.view(b, s, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        q = self.split(self.q(x))
        k = self.split(self.k(context))
        v = self.split(self.v(context))
        o = F.scaled_dot_product_attention(q, k, v)
        return self.out(o.transpose(1, 2).reshape(b, s, d))


def get_inputs(batch=4, seq=128, ctx_seq=96, dim=256, ctx_dim=192):
    return [torch.randn(batch, seq, dim) * 2, torch.randn(batch, ctx_seq, ctx_dim) * 2]


def get_init_inputs(dim=256, ctx_dim=192, heads=8):
    return [dim, ctx_dim, heads]
