"""Row sums in C++, one row per OpenMP iteration."""

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

at::Tensor row_sum_forward(at::Tensor x) {
    TORCH_CHECK(x.dim() >= 1 && x.is_contiguous() && x.scalar_type() == at::kFloat, "contiguous float32 input expected");
    const int64_t cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
    auto sizes = x.sizes().vec();
    sizes.pop_back();
    auto y = at::empty(sizes, x.options());
    const float* src = x.data_ptr<float>();
    float* dst = y.data_ptr<float>();
    #pragma omp parallel for
    for (int64_t r = 0; r < rows; ++r) {
        const float* in = src + r * cols;
        double acc = 0.0;
        for (int64_t j = 0; j < cols; ++j) acc += in[j];
        dst[r] = static_cast<float>(acc);
    }
    return y;
}
"""

_ext = load_inline(
    name="kw_smoke_row_sum_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["row_sum_forward"],
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
        return _ext.row_sum_forward(x.contiguous())
