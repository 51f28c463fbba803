"""Row sums as a Triton kernel registered with ``torch.library.triton_op`` and launched through
``wrap_triton``: torch's own way to make a Triton kernel an operator."""

import torch
import torch.nn as nn
import triton
import triton.language as tl
from torch.library import triton_op, wrap_triton


@triton.jit
def _sum_rows(src, dst, cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    lanes = tl.arange(0, BLOCK)
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for start in range(0, cols, BLOCK):
        c = start + lanes
        acc += tl.load(src + row * cols + c, mask=c < cols, other=0.0)
    tl.store(dst + row, tl.sum(acc, axis=0))


@triton_op("kw_honest::row_sum", mutates_args=())
def row_sum(x: torch.Tensor) -> torch.Tensor:
    rows, cols = x.shape
    out = torch.empty((rows,), dtype=x.dtype, device=x.device)
    wrap_triton(_sum_rows)[(rows,)](x, out, cols, BLOCK=2048)
    return out


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1]).contiguous()
        return row_sum(flat).view(x.shape[:-1])
