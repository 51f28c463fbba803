"""Softmax over the last dim in C++: row max, sum of exponentials, then normalize, one row per OpenMP iteration."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CPP_SOURCE = r"""
// Only the headers this kernel uses: <torch/extension.h> would add the whole C++ frontend
// and double the build time.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty_like.h>
#include <torch/csrc/utils/pybind.h>
#include <algorithm>
#include <cmath>

at::Tensor softmax_forward(at::Tensor x) {
    TORCH_CHECK(x.dim() >= 1 && x.is_contiguous() && x.scalar_type() == at::kFloat, "contiguous float32 input expected");
    const int64_t cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
    auto y = at::empty_like(x);
    const float* src = x.data_ptr<float>();
    float* dst = y.data_ptr<float>();
    #pragma omp parallel for if (rows * cols >= 32768)
    for (int64_t r = 0; r < rows; ++r) {
        const float* in = src + r * cols;
        float* out = dst + r * cols;
        // Subtract the row max so that no exponential overflows.
        float mx = -INFINITY;
        for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, in[j]);
        double sum = 0.0;
        for (int64_t j = 0; j < cols; ++j) {
            out[j] = std::exp(in[j] - mx);
            sum += out[j];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t j = 0; j < cols; ++j) out[j] *= inv;
    }
    return y;
}
"""

_ext = load_inline(
    name="kw_ops_softmax_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["softmax_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    no_implicit_headers=True,
    with_pytorch_error_handling=False,
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ext.softmax_forward(x.contiguous())
