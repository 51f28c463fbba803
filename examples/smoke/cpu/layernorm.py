"""Layer normalization in C++: one row per OpenMP iteration, two-pass mean and variance."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CPP_SOURCE = r"""
// Only the headers this kernel uses: <torch/extension.h> would add the whole C++ frontend
// and double the build time.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <torch/csrc/utils/pybind.h>
#include <cmath>

at::Tensor layernorm_forward(at::Tensor x, at::Tensor weight, at::Tensor bias, double eps) {
    TORCH_CHECK(x.is_contiguous() && x.scalar_type() == at::kFloat, "contiguous float32 input expected");
    const int64_t features = x.size(-1), rows = x.numel() / features;
    TORCH_CHECK(weight.is_contiguous() && bias.is_contiguous(), "contiguous parameters expected");
    TORCH_CHECK(weight.numel() == features && bias.numel() == features, "one weight and bias per feature");
    auto y = at::empty_like(x);
    const float* src = x.data_ptr<float>();
    const float* w = weight.data_ptr<float>();
    const float* b = bias.data_ptr<float>();
    float* dst = y.data_ptr<float>();
    #pragma omp parallel for
    for (int64_t r = 0; r < rows; ++r) {
        const float* in = src + r * features;
        float* out = dst + r * features;
        double sum = 0.0;
        for (int64_t j = 0; j < features; ++j) sum += in[j];
        const double mean = sum / features;
        double sq = 0.0;
        for (int64_t j = 0; j < features; ++j) {
            const double d = in[j] - mean;
            sq += d * d;
        }
        const float rstd = static_cast<float>(1.0 / std::sqrt(sq / features + eps));
        const float m = static_cast<float>(mean);
        for (int64_t j = 0; j < features; ++j) out[j] = (in[j] - m) * rstd * w[j] + b[j];
    }
    return y;
}
"""

_ext = load_inline(
    name="kw_smoke_layernorm_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["layernorm_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    no_implicit_headers=True,
    with_pytorch_error_handling=False,
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self, features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ext.layernorm_forward(
            x.contiguous(), self.weight.contiguous(), self.bias.contiguous(), self.eps
        )
