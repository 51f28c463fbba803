"""Honest: the kernel compiled ahead of time per shape (jax.jit(...).lower(...).compile())."""

import jax
import jax.numpy as jnp
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def relu_kernel(x_ref, o_ref):
    x = x_ref[...]
    o_ref[...] = jnp.where(x < 0, 0.0, x)


def relu(a):
    return pl.pallas_call(relu_kernel, out_shape=jax.ShapeDtypeStruct(a.shape, a.dtype))(a)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.compiled = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = jax.dlpack.from_dlpack(x.contiguous())
        key = (a.shape, str(a.dtype))
        if key not in self.compiled:
            self.compiled[key] = jax.jit(relu).lower(a).compile()
        return torch.from_dlpack(self.compiled[key](a))
