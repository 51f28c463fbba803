"""Bias add over the rows of a (batch, dim) matrix (x + bias, bias of shape (dim,)) as a Triton kernel over
the flat output."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def bias_add_rows_kernel(x_ptr, b_ptr, y_ptr, n, dim, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    b = tl.load(b_ptr + offs % dim, mask=mask, other=0.0)
    tl.store(y_ptr + offs, x + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.bias = nn.Parameter(torch.empty(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        dim = x.shape[-1]
        bias_add_rows_kernel[(triton.cdiv(n, 1024),)](
            x, self.bias.contiguous(), y, n, dim, BLOCK=1024
        )
        return y
