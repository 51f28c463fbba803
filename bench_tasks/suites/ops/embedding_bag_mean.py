"""EmbeddingBag, mode="mean": per-bag mean of embedding rows; bags from 1-D indices, offsets."""

import torch
import torch.nn as nn

CATEGORY = "index"

CONFIGS = [
    dict(num_embeddings=50, dim=129, bags=77, bag=3),
    dict(num_embeddings=2, dim=64, bags=300, bag=5),
    dict(num_embeddings=30001, dim=1, bags=1000, bag=40),
    dict(num_embeddings=1000, dim=33, bags=2, bag=200),
]

SCALES = {"gpu": dict(num_embeddings=1048576, dim=256, bags=65536, bag=32)}


def sample_config(rng):
    return dict(
        num_embeddings=rng.randint(2, 4000),
        dim=rng.randint(1, 200),
        bags=rng.randint(4, 300),
        bag=rng.randint(2, 40),
    )


class Model(nn.Module):
    """With offsets of shape (bags,) (offsets[0] = 0, non-decreasing) and end[i] = offsets[i + 1]
    (end[bags - 1] = len(indices)): y[i, :] = mean_{offsets[i] <= t < end[i]} weight[indices[t], :],
    and y[i, :] = 0 for an empty bag. weight has shape (num_embeddings, dim)."""

    def __init__(self, num_embeddings: int, dim: int):
        super().__init__()
        self.bag = nn.EmbeddingBag(num_embeddings, dim, mode="mean")

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.bag(indices, offsets)


def get_inputs(num_embeddings=8192, bags=2048, bag=20):
    # Bag sizes 0..2*bag (mean ``bag``; some bags may be empty), drawn on the CPU so that the
    # total is known even where tensors are made on the meta device; offsets start at 0.
    sizes = torch.randint(0, 2 * bag + 1, (bags,), device="cpu")
    offsets = torch.cumsum(sizes, 0) - sizes
    indices = torch.randint(0, num_embeddings, (int(sizes.sum()),))
    return [indices, offsets]


def get_init_inputs(num_embeddings=8192, dim=128):
    return [num_embeddings, dim]
