"""One RMSprop update of a flat parameter vector, returning the new parameters."""

import torch
import torch.nn as nn

CATEGORY = "optimizer"

CONFIGS = [
    dict(n=1000, alpha=0.9),
    dict(n=4097, lr=0.5, eps=1e-3),
    dict(n=1, lr=0.001),
]

SCALES = {"gpu": dict(n=2**28)}


def sample_config(rng):
    return dict(n=rng.randint(1, 100000))


class Model(nn.Module):
    """v' = alpha * square_avg + (1 - alpha) * grad^2;
    param' = param - lr * grad / (sqrt(v') + eps)
    (torch.optim.RMSprop: not centered, no momentum, no weight decay).
    Returns param' (shape (n,)); v' is not returned."""

    def __init__(self, lr: float, alpha: float, eps: float):
        super().__init__()
        self.lr, self.alpha, self.eps = lr, alpha, eps

    def forward(self, param, grad, square_avg):
        v = self.alpha * square_avg + (1 - self.alpha) * grad * grad
        return param - self.lr * grad / (torch.sqrt(v) + self.eps)


def get_inputs(n=1048576):
    # square_avg (a running mean of g^2) must be non-negative.
    return [torch.randn(n), torch.randn(n), torch.randn(n).square()]


def get_init_inputs(lr=0.01, alpha=0.99, eps=1e-8):
    return [lr, alpha, eps]
