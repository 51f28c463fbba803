"""One SGD step (momentum, weight decay) on a flat parameter vector, returning new parameters."""

import torch
import torch.nn as nn

CATEGORY = "optimizer"

CONFIGS = [
    dict(n=1000, momentum=0.0),
    dict(n=4097, lr=0.5, weight_decay=0.0),
    dict(n=1, lr=0.01, momentum=0.99, weight_decay=0.1),
]

SCALES = {"gpu": dict(n=2**28)}


def sample_config(rng):
    return dict(n=rng.randint(1, 100000))


class Model(nn.Module):
    """g = grad + weight_decay * param;  buf' = momentum * momentum_buf + g;
    param' = param - lr * buf' (torch.optim.SGD, dampening 0, not Nesterov, existing buffer).
    Returns param' (shape (n,)); buf' is not returned."""

    def __init__(self, lr: float, momentum: float, weight_decay: float):
        super().__init__()
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay

    def forward(self, param, grad, momentum_buf):
        g = grad + self.weight_decay * param
        buf = self.momentum * momentum_buf + g
        return param - self.lr * buf


def get_inputs(n=1048576):
    return [torch.randn(n), torch.randn(n), torch.randn(n)]


def get_init_inputs(lr=0.1, momentum=0.9, weight_decay=0.01):
    return [lr, momentum, weight_decay]
