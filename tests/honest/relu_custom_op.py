"""ReLU as a Triton kernel registered as a torch custom op, the way serving engines expose their
kernels (``torch.library.custom_op`` with a fake implementation for tracing)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _relu_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    keep = offs < n
    v = tl.load(src + offs, mask=keep, other=0.0)
    tl.store(dst + offs, tl.maximum(v, 0.0), mask=keep)


@torch.library.custom_op("kw_honest::relu", mutates_args=())
def relu(x: torch.Tensor) -> torch.Tensor:
    x = x.contiguous()
    out = torch.empty_like(x)
    n = x.numel()
    _relu_kernel[(triton.cdiv(n, 4096),)](x, out, n, BLOCK=4096)
    return out


@relu.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return relu(x)
