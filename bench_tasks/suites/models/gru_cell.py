"""A GRU cell unrolled over a short sequence, returning every hidden state."""

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
    """x (batch, seq, input_size), h0 (batch, hidden). For t = 0 .. seq - 1, with h = h_{t-1}:
    r = sigmoid(x_t W_ir^T + b_ir + h W_hr^T + b_hr); z = sigmoid(x_t W_iz^T + b_iz + h W_hz^T
    + b_hz); n = tanh(x_t W_in^T + b_in + r * (h W_hn^T + b_hn)); h_t = (1 - z) * n + z * h.
    weight_ih (3 hidden, input_size) and weight_hh (3 hidden, hidden) stack the r, z, n rows.
    y[:, t] = h_t, shape (batch, seq, hidden)."""

    def __init__(self, input_size: int, hidden: int):
        super().__init__()
        self.cell = nn.GRUCell(input_size, hidden)

    def forward(self, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
        h = h0
        states = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            states.append(h)
        return torch.stack(states, dim=1)


def get_inputs(batch=64, seq=16, input_size=256, hidden=256):
    return [torch.randn(batch, seq, input_size), torch.randn(batch, hidden)]


def get_init_inputs(input_size=256, hidden=256):
    return [input_size, hidden]
