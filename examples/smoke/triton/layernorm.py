"""Layer normalization as a Triton kernel: one program per row, two-pass mean and variance."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def layernorm_kernel(x_ptr, w_ptr, b_ptr, y_ptr, features, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * features
    y_row = y_ptr + row * features
    cols = tl.arange(0, BLOCK)
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for start in range(0, features, BLOCK):
        c = start + cols
        acc += tl.load(x_row + c, mask=c < features, other=0.0)
    mean = tl.sum(acc, axis=0) / features
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for start in range(0, features, BLOCK):
        c = start + cols
        d = tl.load(x_row + c, mask=c < features, other=0.0) - mean
        acc += tl.where(c < features, d * d, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(acc, axis=0) / features + eps)
    for start in range(0, features, BLOCK):
        c = start + cols
        mask = c < features
        x = tl.load(x_row + c, mask=mask, other=0.0)
        w = tl.load(w_ptr + c, mask=mask, other=0.0)
        b = tl.load(b_ptr + c, mask=mask, other=0.0)
        tl.store(y_row + c, (x - mean) * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        features = x.shape[-1]
        rows = x.numel() // features
        layernorm_kernel[(rows,)](
            x, self.weight.contiguous(), self.bias.contiguous(), y, features, self.eps, BLOCK=1024
        )
        return y
