"""One Adam update of a flat parameter vector, returning the new parameters."""

import torch
import torch.nn as nn

CATEGORY = "optimizer"

CONFIGS = [
    dict(n=1000, step=1),
    dict(n=4097, lr=0.5, step=100),
]


class Model(nn.Module):
    """m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2;
    p' = p - lr * (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)."""

    def __init__(self, lr: float, beta1: float, beta2: float, eps: float, step: int):
        super().__init__()
        self.lr, self.beta1, self.beta2, self.eps, self.step = lr, beta1, beta2, eps, step

    def forward(self, param, grad, exp_avg, exp_avg_sq):
        m = self.beta1 * exp_avg + (1 - self.beta1) * grad
        v = self.beta2 * exp_avg_sq + (1 - self.beta2) * grad * grad
        m_hat = m / (1 - self.beta1**self.step)
        v_hat = v / (1 - self.beta2**self.step)
        return param - self.lr * m_hat / (torch.sqrt(v_hat) + self.eps)


def get_inputs(n=262144):
    return [torch.randn(n), torch.randn(n), torch.randn(n), torch.rand(n)]


def get_init_inputs(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, step=10):
    return [lr, beta1, beta2, eps, step]
