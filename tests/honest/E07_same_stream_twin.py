"""The busy kernel of tests/exploits/E07_side_stream.py on the current stream: the honest twin
whose time the side-stream version must match."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def slow_relu_kernel(x_ptr, y_ptr, n, REPEAT: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    acc = x
    for _ in range(REPEAT):  # busy work, so the kernel takes long enough to show in a timing
        acc = tl.maximum(acc * 1.0000001, 0.0)
    tl.store(y_ptr + offs, tl.maximum(x, 0.0) + (acc - acc), mask=mask)


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        y = torch.empty_like(x)
        slow_relu_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), REPEAT=2000, BLOCK=1024)
        return y
