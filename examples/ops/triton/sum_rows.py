"""Sum over the last dim as a Triton kernel: one program per row, a float32 vector of partial sums over
blocks of the row, reduced to one value at the end."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def sum_rows_kernel(x_ptr, y_ptr, rows, cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * cols
    offs = tl.arange(0, BLOCK)
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for start in range(0, cols, BLOCK):
        c = start + offs
        acc += tl.load(x_row + c, mask=c < cols, other=0.0).to(tl.float32)
    total = tl.sum(acc, axis=0)
    tl.store(y_ptr + row, total, mask=row < rows)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        cols = x.shape[-1]
        y = torch.empty(x.shape[:-1], dtype=x.dtype, device=x.device)
        rows = x.numel() // cols
        block = min(max(triton.next_power_of_2(cols), 16), 4096)
        sum_rows_kernel[(rows,)](x, y, rows, cols, BLOCK=block)
        return y
