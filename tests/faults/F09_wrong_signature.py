"""F09: the task's Model takes ``channels``; this ModelNew's constructor takes nothing."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def bias_add_kernel(x_ptr, b_ptr, y_ptr, n, C, L, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    tl.store(y_ptr + offs, x + tl.load(b_ptr + (offs // L) % C, mask=mask, other=0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(64, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, L = x.shape
        y = torch.empty_like(x)
        bias_add_kernel[(triton.cdiv(x.numel(), 1024),)](x.contiguous(), self.bias, y, x.numel(), C, L, BLOCK=1024)
        return y
