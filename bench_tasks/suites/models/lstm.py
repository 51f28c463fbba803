"""A one-layer batch-first LSTM, returning its outputs and final hidden and cell states."""

import torch
import torch.nn as nn

CATEGORY = "full_arch"

CONFIGS = [
    dict(batch=7, seq=5, input_size=33, hidden=65),
    dict(batch=1, seq=1, input_size=1, hidden=300),
    dict(batch=129, seq=20, input_size=200, hidden=3),
]

SCALES = {"gpu": dict(batch=1024, seq=64, input_size=2048, hidden=2048)}


def sample_config(rng):
    return dict(
        batch=rng.randint(1, 64),
        seq=rng.randint(1, 20),
        input_size=rng.randint(1, 200),
        hidden=rng.randint(1, 200),
    )


class Model(nn.Module):
    """x (batch, seq, input_size), h0 and c0 (1, batch, hidden). For t = 0 .. seq - 1, with
    h, c = h_{t-1}, c_{t-1}: g = x_t W_ih^T + b_ih + h W_hh^T + b_hh, split into four blocks of
    hidden in the order i, f, g, o; c_t = sigmoid(f) * c + sigmoid(i) * tanh(g);
    h_t = sigmoid(o) * tanh(c_t). Returns (y, h_n, c_n): y[:, t] = h_t of shape
    (batch, seq, hidden), h_n = h_{seq-1} and c_n = c_{seq-1} of shape (1, batch, hidden)."""

    def __init__(self, input_size: int, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden, num_layers=1, batch_first=True)

    def forward(self, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor):
        y, (h_n, c_n) = self.lstm(x, (h0, c0))
        return y, h_n, c_n


def get_inputs(batch=64, seq=16, input_size=256, hidden=256):
    return [
        torch.randn(batch, seq, input_size),
        torch.randn(1, batch, hidden),
        torch.randn(1, batch, hidden) * 2,
    ]


def get_init_inputs(input_size=256, hidden=256):
    return [input_size, hidden]
