"""Multi-head self-attention with a causal mask and a key padding mask from int64 lengths."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CATEGORY = "attention"

CONFIGS = [
    dict(batch=3, seq=77, dim=96, heads=3),
    dict(batch=2, seq=1, dim=64, heads=4),
    dict(batch=5, seq=130, dim=24, heads=1),
]

SCALES = {"gpu": dict(batch=8, seq=4096, dim=2048, heads=16)}


def sample_config(rng):
    heads = rng.randint(1, 4)
    return dict(
        batch=rng.randint(1, 4),
        seq=rng.randint(1, 150),
        dim=heads * rng.randint(1, 48),
        heads=heads,
    )


class Model(nn.Module):
    """x (batch, seq, dim), lengths (batch,) int64 with 1 <= lengths[b] <= seq.
    q, k, v = x @ wq^T + bq, x @ wk^T + bk, x @ wv^T + bv, each split into heads of
    head_dim = dim / heads. Query i of sequence b sees key j only where j <= i and
    j < lengths[b] (key 0 always, so no row is empty); s = q k^T / sqrt(head_dim) with the
    other scores at -inf; o = softmax(s) v per head, heads concatenated; y = o @ wo^T + bo.
    Queries at positions >= lengths[b] are computed the same way (not zeroed)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def split(self, t: torch.Tensor) -> torch.Tensor:
        b, s, d = t.shape
        return t.view(b, s, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        pos = torch.arange(s, device=x.device)
        causal = pos[None, :] <= pos[:, None]  # (query, key)
        padding = pos[None, :] < lengths[:, None]  # (batch, key)
        mask = causal[None, None, :, :] & padding[:, None, None, :]
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(o.transpose(1, 2).reshape(b, s, d))


def get_inputs(batch=4, seq=128, dim=256):
    return [torch.randn(batch, seq, dim) * 2, torch.randint(1, seq + 1, (batch,))]


def get_init_inputs(dim=256, heads=8):
    return [dim, heads]
