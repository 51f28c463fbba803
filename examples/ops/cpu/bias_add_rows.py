"""Row-broadcast bias add x + bias over (batch, dim) as an OpenMP loop in C++."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CPP_SOURCE = r"""
// Only the headers this kernel uses: <torch/extension.h> would add the whole C++ frontend
// and double the build time.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty_like.h>
#include <torch/csrc/utils/pybind.h>

at::Tensor bias_add_rows_forward(at::Tensor x, at::Tensor bias) {
    TORCH_CHECK(x.dim() >= 1 && x.is_contiguous() && x.scalar_type() == at::kFloat, "contiguous float32 input expected");
    TORCH_CHECK(bias.is_contiguous() && bias.scalar_type() == at::kFloat && bias.numel() == x.size(-1), "bias must hold one float32 value per column");
    auto y = at::empty_like(x);
    const int64_t cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
    const float* src = x.data_ptr<float>();
    const float* b = bias.data_ptr<float>();
    float* dst = y.data_ptr<float>();
    #pragma omp parallel for if (rows * cols >= 32768)
    for (int64_t r = 0; r < rows; ++r) {
        const float* in = src + r * cols;
        float* out = dst + r * cols;
        #pragma omp simd
        for (int64_t j = 0; j < cols; ++j) out[j] = in[j] + b[j];
    }
    return y;
}
"""

_ext = load_inline(
    name="kw_ops_bias_add_rows_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["bias_add_rows_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    no_implicit_headers=True,
    with_pytorch_error_handling=False,
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.bias = nn.Parameter(torch.empty(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ext.bias_add_rows_forward(x.contiguous(), self.bias.contiguous())
