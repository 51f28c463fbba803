"""Matrix product as a Pallas kernel: each program computes a block of rows of C from the same
rows of A and all of B, accumulating in float32 at full precision (no TF32)."""

import jax
import jax.numpy as jnp
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def matmul_kernel(a_ref, b_ref, c_ref):
    c_ref[...] = jnp.dot(
        a_ref[...],
        b_ref[...],
        precision=jax.lax.Precision.HIGHEST,
        preferred_element_type=jnp.float32,
    ).astype(c_ref.dtype)


def matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    m, k = a.shape
    n = b.shape[1]
    block_m = 8 if m % 8 == 0 else m
    return pl.pallas_call(
        matmul_kernel,
        out_shape=jax.ShapeDtypeStruct((m, n), a.dtype),
        grid=(m // block_m,),
        in_specs=[
            pl.BlockSpec((block_m, k), lambda i: (i, 0)),
            pl.BlockSpec((k, n), lambda i: (0, 0)),
        ],
        out_specs=pl.BlockSpec((block_m, n), lambda i: (i, 0)),
    )(a, b)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        a = jax.dlpack.from_dlpack(A.contiguous())
        b = jax.dlpack.from_dlpack(B.contiguous())
        return torch.from_dlpack(matmul(a, b))
