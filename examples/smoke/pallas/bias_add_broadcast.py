"""x + bias broadcast over batch and length, as a Pallas kernel with one program per batch entry."""

import jax
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def bias_add_kernel(x_ref, bias_ref, o_ref):
    o_ref[...] = x_ref[...] + bias_ref[...]


def bias_add(x: jax.Array, bias: jax.Array) -> jax.Array:
    batch, channels, length = x.shape
    block = pl.BlockSpec((1, channels, length), lambda b: (b, 0, 0))
    return pl.pallas_call(
        bias_add_kernel,
        out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
        grid=(batch,),
        in_specs=[block, pl.BlockSpec((1, channels, 1), lambda b: (0, 0, 0))],
        out_specs=block,
    )(x, bias)


class ModelNew(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias.detach().contiguous().reshape(1, -1, 1)
        y = bias_add(jax.dlpack.from_dlpack(x.contiguous()), jax.dlpack.from_dlpack(bias))
        return torch.from_dlpack(y)
