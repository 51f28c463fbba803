"""where(x > 0, x, y) as an OpenMP loop in C++."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CPP_SOURCE = r"""
// Only the headers this kernel uses: <torch/extension.h> would add the whole C++ frontend
// and double the build time.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty_like.h>
#include <torch/csrc/utils/pybind.h>

at::Tensor where_select_forward(at::Tensor x, at::Tensor y) {
    TORCH_CHECK(x.is_contiguous() && x.scalar_type() == at::kFloat, "contiguous float32 x expected");
    TORCH_CHECK(y.is_contiguous() && y.scalar_type() == at::kFloat && y.sizes() == x.sizes(), "contiguous float32 y of x's shape expected");
    auto out = at::empty_like(x);
    const float* a = x.data_ptr<float>();
    const float* b = y.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const int64_t n = x.numel();
    #pragma omp parallel for simd if (n >= 32768)
    for (int64_t i = 0; i < n; ++i) dst[i] = a[i] > 0.f ? a[i] : b[i];
    return out;
}
"""

_ext = load_inline(
    name="kw_ops_where_select_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["where_select_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    no_implicit_headers=True,
    with_pytorch_error_handling=False,
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _ext.where_select_forward(x.contiguous(), y.contiguous())
