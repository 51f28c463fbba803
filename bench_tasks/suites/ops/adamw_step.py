"""One AdamW update (decoupled weight decay) of a flat parameter vector, returning new params."""

import torch
import torch.nn as nn

CATEGORY = "optimizer"

CONFIGS = [
    dict(n=1000, step=1),
    dict(n=4097, lr=0.5, weight_decay=0.0, step=100),
    dict(n=1, lr=0.001, beta1=0.5, beta2=0.9, weight_decay=0.3, step=3),
]

SCALES = {"gpu": dict(n=2**28)}


def sample_config(rng):
    return dict(n=rng.randint(1, 100000), step=rng.randint(1, 1000))


class Model(nn.Module):
    """p = param * (1 - lr * weight_decay);  m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2;
    param' = p - lr * (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps), t = step
    (torch.optim.AdamW, not amsgrad). Returns param' (shape (n,)); m', v' are not returned."""

    def __init__(
        self,
        lr: float,
        beta1: float,
        beta2: float,
        eps: float,
        weight_decay: float,
        step: int,
    ):
        super().__init__()
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.weight_decay, self.step = weight_decay, step

    def forward(self, param, grad, exp_avg, exp_avg_sq):
        p = param * (1 - self.lr * self.weight_decay)
        m = self.beta1 * exp_avg + (1 - self.beta1) * grad
        v = self.beta2 * exp_avg_sq + (1 - self.beta2) * grad * grad
        m_hat = m / (1 - self.beta1**self.step)
        v_hat = v / (1 - self.beta2**self.step)
        return p - self.lr * m_hat / (torch.sqrt(v_hat) + self.eps)


def get_inputs(n=1048576):
    # exp_avg_sq (a running mean of g^2) must be non-negative.
    return [torch.randn(n), torch.randn(n), torch.randn(n) * 0.5, torch.randn(n).square()]


def get_init_inputs(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.05, step=10):
    return [lr, beta1, beta2, eps, weight_decay, step]
