"""Honest: a fresh jax.jit wrapper in every forward, and a Python scalar argument that changes
from call to call (traced as a weak-typed scalar, so one compiled program serves every call)."""

import jax
import jax.numpy as jnp
import torch
import torch.nn as nn
from jax.experimental import pallas as pl


def relu_kernel(x_ref, s_ref, o_ref):
    x = x_ref[...]
    o_ref[...] = jnp.where(x < 0, 0.0, x) * s_ref[0]


def relu(a, scale):
    scale = jnp.full((1,), scale, a.dtype)
    return pl.pallas_call(relu_kernel, out_shape=jax.ShapeDtypeStruct(a.shape, a.dtype))(a, scale)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        scale = 1.0 + 0.0 * self.calls  # a different Python float object every call
        y = jax.jit(relu)(jax.dlpack.from_dlpack(x.contiguous()), scale)
        return torch.from_dlpack(y)
