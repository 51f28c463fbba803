"""GELU (tanh approximation) as a Pallas elementwise kernel over blocks of rows."""

import math

import jax
import jax.numpy as jnp
import torch
import torch.nn as nn
from jax.experimental import pallas as pl

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu_kernel(x_ref, o_ref):
    x = x_ref[...]
    inner = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
    o_ref[...] = 0.5 * x * (1.0 + jnp.tanh(inner))


def gelu(x: jax.Array) -> jax.Array:
    rows, cols = x.shape
    block_rows = 8 if rows % 8 == 0 else rows
    spec = pl.BlockSpec((block_rows, cols), lambda i: (i, 0))
    return pl.pallas_call(
        gelu_kernel,
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
        y = gelu(jax.dlpack.from_dlpack(flat))
        return torch.from_dlpack(y).reshape(x.shape)
