"""Honest: the input split in two halves outside the kernels (split, stack and full are data
movement), each half through its own pallas_call."""

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = jax.dlpack.from_dlpack(x.contiguous())
        if a.shape[0] % 2:
            return torch.from_dlpack(relu(a))
        halves = jnp.stack([relu(h) for h in jnp.split(a, 2)])
        return torch.from_dlpack(halves.reshape(a.shape))
