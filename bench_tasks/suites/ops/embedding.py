"""Embedding lookup (nn.Embedding) of a (batch, seq) int64 index tensor."""

import torch
import torch.nn as nn

CATEGORY = "index"

CONFIGS = [
    dict(batch=3, seq=77, num_embeddings=50, embedding_dim=129),
    dict(batch=1, seq=1000, num_embeddings=2, embedding_dim=64),
    dict(batch=5, seq=1, num_embeddings=30001, embedding_dim=1),
]

SCALES = {"gpu": dict(batch=64, seq=2048, num_embeddings=131072, embedding_dim=1024)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 16),
        seq=rng.randint(1, 200),
        num_embeddings=rng.randint(2, 4000),
        embedding_dim=rng.randint(1, 200),
    )


class Model(nn.Module):
    """y[b, s, :] = weight[indices[b, s], :], weight of shape (num_embeddings, embedding_dim)."""

    def __init__(self, num_embeddings: int, embedding_dim: int):
        super().__init__()
        self.embedding = nn.Embedding(num_embeddings, embedding_dim)

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        return self.embedding(indices)


def get_inputs(batch=16, seq=256, num_embeddings=8192):
    return [torch.randint(0, num_embeddings, (batch, seq))]


def get_init_inputs(num_embeddings=8192, embedding_dim=128):
    return [num_embeddings, embedding_dim]
