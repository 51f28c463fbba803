"""Per-channel bias add that never materialises the broadcast bias: ``broadcast_to`` and
``expand_as`` give zero-stride views, and the Triton kernel reads every operand by its strides."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _add_strided(
    x_ptr, b_ptr, y_ptr, n, channels, length,
    sx_b, sx_c, sx_l, sb_b, sb_c, sb_l,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    keep = offs < n
    pos = offs % length
    chan = (offs // length) % channels
    batch = offs // (length * channels)
    x = tl.load(x_ptr + batch * sx_b + chan * sx_c + pos * sx_l, mask=keep, other=0.0)
    b = tl.load(b_ptr + batch * sb_b + chan * sb_c + pos * sb_l, mask=keep, other=0.0)
    tl.store(y_ptr + offs, x + b, mask=keep)


class ModelNew(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, length = x.shape
        per_channel = torch.broadcast_to(self.bias, (channels, length))  # stride 0 along length
        bias = per_channel.unsqueeze(0).expand_as(x)  # and along batch
        y = torch.empty(x.numel(), dtype=x.dtype, device=x.device)
        _add_strided[(triton.cdiv(y.numel(), 2048),)](
            x, bias, y, y.numel(), channels, length,
            x.stride(0), x.stride(1), x.stride(2), bias.stride(0), bias.stride(1), bias.stride(2),
            BLOCK=2048,
        )
        return y.view_as(x)
