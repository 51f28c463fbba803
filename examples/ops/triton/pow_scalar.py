"""(|x| + 0.1) ^ 2.5 as a Triton elementwise kernel: the positive base b is raised as b * b * sqrt(b),
which stays within a few ulp (exp2(2.5 * log2(b)) would amplify the log's rounding error)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def pow_scalar_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    b = tl.abs(x) + 0.1
    y = b * b * tl.sqrt_rn(b)
    tl.store(y_ptr + offs, y, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        pow_scalar_kernel[(triton.cdiv(n, 1024),)](x, y, n, BLOCK=1024)
        return y
