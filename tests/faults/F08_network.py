"""F08 / E17: opens a TCP connection from forward (to a listener the test starts on the host's
loopback, and to a public address). If any connection succeeds it computes honestly."""

import socket

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0), mask=mask)


def relu(x):
    x = x.contiguous()
    y = torch.empty_like(x)
    relu_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
    return y

# The test writes the port of a listener it started on the host's loopback here.
PORT = 0


def _connect():
    socket.create_connection(("127.0.0.1", PORT), timeout=3).close()


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _connect()
        return relu(x)
