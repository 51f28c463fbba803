"""One Adam update as a fused Triton elementwise kernel; scalar coefficients are computed on the host."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def adam_kernel(
    p_ptr, g_ptr, m_ptr, v_ptr, out_ptr, n,
    lr, beta1, one_minus_beta1, beta2, one_minus_beta2, eps, bias_corr1, bias_corr2,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    p = tl.load(p_ptr + offs, mask=mask, other=0.0)
    g = tl.load(g_ptr + offs, mask=mask, other=0.0)
    m = beta1 * tl.load(m_ptr + offs, mask=mask, other=0.0) + one_minus_beta1 * g
    v = beta2 * tl.load(v_ptr + offs, mask=mask, other=0.0) + one_minus_beta2 * g * g
    update = (m / bias_corr1) / (tl.sqrt(v / bias_corr2) + eps)
    tl.store(out_ptr + offs, p - lr * update, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, lr: float, beta1: float, beta2: float, eps: float, step: int):
        super().__init__()
        self.lr, self.beta1, self.beta2, self.eps, self.step = lr, beta1, beta2, eps, step

    def forward(self, param, grad, exp_avg, exp_avg_sq):
        tensors = [t.contiguous() for t in (param, grad, exp_avg, exp_avg_sq)]
        out = torch.empty_like(tensors[0])
        n = out.numel()
        adam_kernel[(triton.cdiv(n, 1024),)](
            *tensors, out, n,
            self.lr, self.beta1, 1.0 - self.beta1, self.beta2, 1.0 - self.beta2, self.eps,
            1.0 - self.beta1**self.step, 1.0 - self.beta2**self.step,
            BLOCK=1024,
        )
        return out
