"""ReLU as a Pallas kernel over blocks of rows, its tensors passed to and from JAX by DLPack."""

import jax
import jax.numpy as jnp
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def relu_kernel(x_ref, o_ref):
    x = x_ref[...]
    o_ref[...] = jnp.where(x < 0, jnp.zeros_like(x), x)


def relu(x: jax.Array) -> jax.Array:
    rows, cols = x.shape
    block_rows = 8 if rows % 8 == 0 else rows
    return pl.pallas_call(
        relu_kernel,
        out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
        grid=(rows // block_rows,),
        in_specs=[pl.BlockSpec((block_rows, cols), lambda i: (i, 0))],
        out_specs=pl.BlockSpec((block_rows, cols), lambda i: (i, 0)),
    )(x)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.contiguous().reshape(-1, x.shape[-1])
        y = relu(jax.dlpack.from_dlpack(flat))
        return torch.from_dlpack(y).reshape(x.shape)
