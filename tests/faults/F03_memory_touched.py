"""F03: a host memory bomb that writes every page it takes: 2 GiB in 64 MiB blocks, twice the
limit its test sets, then answers correctly. Only a memory limit that holds stops it."""

import torch
import torch.nn as nn
import triton
import triton.language as tl

TOTAL = 2 << 30
BLOCK_BYTES = 64 << 20


@triton.jit
def relu_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hoard = []
        for _ in range(TOTAL // BLOCK_BYTES):
            # Written by Python, not by an aten op, so that no witness stops it first.
            hoard.append(bytearray(b"\1") * BLOCK_BYTES)
        x = x.contiguous()
        y = torch.empty_like(x)
        relu_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
        del hoard
        return y
