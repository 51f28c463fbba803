"""LayerNorm over the last dimension as a Pallas kernel: each program normalises a block of
whole rows (mean, biased variance, then the affine weight and bias)."""

import functools

import jax
import jax.numpy as jnp
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def layernorm_kernel(x_ref, w_ref, b_ref, o_ref, *, eps):
    x = x_ref[...]
    mean = jnp.mean(x, axis=1, keepdims=True)
    centered = x - mean
    var = jnp.mean(centered * centered, axis=1, keepdims=True)
    o_ref[...] = centered * jax.lax.rsqrt(var + eps) * w_ref[...] + b_ref[...]


def layernorm(x: jax.Array, w: jax.Array, b: jax.Array, eps: float) -> jax.Array:
    rows, features = x.shape
    block_rows = 8 if rows % 8 == 0 else rows
    spec = pl.BlockSpec((block_rows, features), lambda i: (i, 0))
    param = pl.BlockSpec((1, features), lambda i: (0, 0))
    return pl.pallas_call(
        functools.partial(layernorm_kernel, eps=eps),
        out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
        grid=(rows // block_rows,),
        in_specs=[spec, param, param],
        out_specs=spec,
    )(x, w, b)


class ModelNew(nn.Module):
    def __init__(self, features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.contiguous().reshape(-1, x.shape[-1])
        w = self.weight.detach().contiguous().reshape(1, -1)
        b = self.bias.detach().contiguous().reshape(1, -1)
        y = layernorm(
            jax.dlpack.from_dlpack(flat), jax.dlpack.from_dlpack(w), jax.dlpack.from_dlpack(b), self.eps
        )
        return torch.from_dlpack(y).reshape(x.shape)
