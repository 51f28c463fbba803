"""Row softmax as a Pallas kernel: each program holds whole rows, subtracts their maximum,
exponentiates and divides by the row's sum."""

import jax
import jax.numpy as jnp
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def softmax_kernel(x_ref, o_ref):
    x = x_ref[...]
    e = jnp.exp(x - jnp.max(x, axis=1, keepdims=True))
    o_ref[...] = e / jnp.sum(e, axis=1, keepdims=True)


def softmax(x: jax.Array) -> jax.Array:
    rows, cols = x.shape
    block_rows = 8 if rows % 8 == 0 else rows
    spec = pl.BlockSpec((block_rows, cols), lambda i: (i, 0))
    return pl.pallas_call(
        softmax_kernel,
        out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
        grid=(rows // block_rows,),
        in_specs=[spec],
        out_specs=spec,
    )(x)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.contiguous().reshape(-1, x.shape[-1])
        y = softmax(jax.dlpack.from_dlpack(flat))
        return torch.from_dlpack(y).reshape(x.shape)
