"""Embedding lookup by int64 indices, with the gradient of the embedding table checked too."""

import torch
import torch.nn as nn

CATEGORY = "index"
BACKWARD = True

CONFIGS = [
    dict(batch=3, seq=77, num_embeddings=50, embedding_dim=129),
    dict(batch=1, seq=1000, num_embeddings=4099, embedding_dim=1),
    dict(batch=64, seq=1, num_embeddings=2, embedding_dim=64),
]

SCALES = {"gpu": dict(batch=16, seq=2048, num_embeddings=32768, embedding_dim=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 16),
        seq=rng.randint(1, 200),
        num_embeddings=rng.randint(2, 5000),
        embedding_dim=rng.randint(1, 300),
    )


class Model(nn.Module):
    """y[b, s, :] = weight[indices[b, s], :];
    dweight[r, :] = sum of dy[b, s, :] over all (b, s) with indices[b, s] == r (repeats add up)."""

    def __init__(self, num_embeddings: int, embedding_dim: int):
        super().__init__()
        self.embedding = nn.Embedding(num_embeddings, embedding_dim)

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        return self.embedding(indices)


def get_inputs(batch=32, seq=256, num_embeddings=1000):
    return [torch.randint(0, num_embeddings, (batch, seq))]


def get_init_inputs(num_embeddings=1000, embedding_dim=256):
    return [num_embeddings, embedding_dim]
