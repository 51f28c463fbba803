"""Row sums as a Pallas reduction kernel, jitted: each program sums a block of whole rows."""

import jax
import jax.numpy as jnp
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def row_sum_kernel(x_ref, o_ref):
    o_ref[...] = jnp.sum(x_ref[...], axis=1)


@jax.jit
def row_sum(x: jax.Array) -> jax.Array:
    rows, cols = x.shape
    block_rows = 8 if rows % 8 == 0 else rows
    return pl.pallas_call(
        row_sum_kernel,
        out_shape=jax.ShapeDtypeStruct((rows,), x.dtype),
        grid=(rows // block_rows,),
        in_specs=[pl.BlockSpec((block_rows, cols), lambda i: (i, 0))],
        out_specs=pl.BlockSpec((block_rows,), lambda i: (i,)),
    )(x)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.contiguous().reshape(-1, x.shape[-1])
        y = row_sum(jax.dlpack.from_dlpack(flat))
        return torch.from_dlpack(y).reshape(x.shape[:-1])
