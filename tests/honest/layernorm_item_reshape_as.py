"""Layer normalization that keeps its epsilon in a tensor and reads it with ``.item()``, flattens
any leading dimensions, and restores the input's shape and dtype with ``reshape_as`` and
``type_as`` around a Triton kernel (one program per row, two passes for the statistics)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _row_stats_normalize(x_ptr, w_ptr, b_ptr, y_ptr, row_stride, features, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    total = tl.zeros((BLOCK,), dtype=tl.float32)
    for start in range(0, features, BLOCK):
        c = start + cols
        total += tl.load(x_ptr + row * row_stride + c, mask=c < features, other=0.0).to(tl.float32)
    mean = tl.sum(total, axis=0) / features
    squares = tl.zeros((BLOCK,), dtype=tl.float32)
    for start in range(0, features, BLOCK):
        c = start + cols
        v = tl.load(x_ptr + row * row_stride + c, mask=c < features, other=0.0).to(tl.float32)
        d = tl.where(c < features, v - mean, 0.0)
        squares += d * d
    inv_std = 1.0 / tl.sqrt(tl.sum(squares, axis=0) / features + eps)
    for start in range(0, features, BLOCK):
        c = start + cols
        keep = c < features
        v = tl.load(x_ptr + row * row_stride + c, mask=keep, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + c, mask=keep, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + c, mask=keep, other=0.0).to(tl.float32)
        tl.store(y_ptr + row * row_stride + c, (v - mean) * inv_std * w + b, mask=keep)


class ModelNew(nn.Module):
    def __init__(self, features: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))
        # Not part of the state dict: the reference's parameters still load.
        self.register_buffer("eps", torch.tensor(eps, dtype=torch.float64), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = x.shape[-1]
        rows = x.reshape(-1, features).contiguous()
        out = torch.empty_like(rows)
        weight = self.weight.type_as(rows).contiguous()
        bias = self.bias.type_as(rows).contiguous()
        block = min(triton.next_power_of_2(features), 4096)
        _row_stats_normalize[(rows.shape[0],)](
            rows, weight, bias, out, rows.stride(0), features, self.eps.item(), BLOCK=block
        )
        return out.reshape_as(x)
