"""A one-layer batch-first tanh Elman RNN, returning its outputs and final hidden state."""

import torch
import torch.nn as nn

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=7, seq=5, input_size=33, hidden=65),
    dict(batch=1, seq=1, input_size=1, hidden=300),
    dict(batch=129, seq=20, input_size=200, hidden=3),
]

SCALES = {"gpu": dict(batch=1024, seq=64, input_size=4096, hidden=4096)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 64),
        seq=rng.randint(1, 20),
        input_size=rng.randint(1, 200),
        hidden=rng.randint(1, 200),
    )


class Model(nn.Module):
    """x (batch, seq, input_size), h0 (1, batch, hidden). For t = 0 .. seq - 1:
    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh). Returns (y, h_n): y[:, t] = h_t of
    shape (batch, seq, hidden) and h_n = h_{seq-1} of shape (1, batch, hidden)."""

    def __init__(self, input_size: int, hidden: int):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden, num_layers=1, nonlinearity="tanh", batch_first=True)

    def forward(self, x: torch.Tensor, h0: torch.Tensor):
        y, h_n = self.rnn(x, h0)
        return y, h_n


def get_inputs(batch=64, seq=16, input_size=256, hidden=256):
    return [torch.randn(batch, seq, input_size) * 2, torch.randn(1, batch, hidden)]


def get_init_inputs(input_size=256, hidden=256):
    return [input_size, hidden]
