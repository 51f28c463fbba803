"""A pre-LayerNorm transformer block: multi-head self-attention and a GELU MLP, each residual."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "attention"

CONFIGS = [
    dict(batch=3, seq=77, dim=96, heads=3, hidden=200),
    dict(batch=1, seq=1, dim=64, heads=4, hidden=256),
    dict(batch=2, seq=130, dim=24, heads=1, hidden=17),
]

SCALES = {"gpu": dict(batch=8, seq=2048, dim=2048, heads=16, hidden=8192)}


def sample_config(rng):
    heads = rng.randint(1, 4)
    return dict(
        batch=rng.randint(1, 3),
        seq=rng.randint(1, 150),
        dim=heads * rng.randint(1, 48),
        heads=heads,
        hidden=rng.randint(1, 300),
    )


class Model(nn.Module):
    """x (batch, seq, dim). a = ln1(x); q, k, v = a @ wq^T + bq, a @ wk^T + bk, a @ wv^T + bv,
    each split into heads of head_dim = dim / heads; o = softmax(q k^T / sqrt(head_dim)) v per
    head (no mask), heads concatenated; h = x + o @ wo^T + bo.
    y = h + gelu(ln2(h) @ w1^T + b1) @ w2^T + b2, gelu(z) = 0.5 z (1 + erf(z / sqrt(2))),
    w1 (hidden, dim), w2 (dim, hidden). ln is LayerNorm over dim: (v - mean) / sqrt(var +
    1e-5) * weight + bias with the biased variance."""

    def __init__(self, dim: int, heads: int, hidden: int):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        for ln in (self.ln1, self.ln2):
            nn.init.normal_(ln.weight, 1.0, 0.2)
            nn.init.normal_(ln.bias, 0.0, 0.2)

    def split(self, t: torch.Tensor) -> torch.Tensor:
        b, s, d = t.shape
        return t.view(b, s, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        a = self.ln1(x)
        q, k, v = self.split(self.q(a)), self.split(self.k(a)), self.split(self.v(a))
        o = F.scaled_dot_product_attention(q, k, v)
        h = x + self.out(o.transpose(1, 2).reshape(b, s, d))
        return h + self.fc2(F.gelu(self.fc1(self.ln2(h))))


def get_inputs(batch=2, seq=128, dim=256):
    return [torch.randn(batch, seq, dim)]


def get_init_inputs(dim=256, heads=4, hidden=1024):
    return [dim, heads, hidden]
