"""Row sums over the last dim in C++, accumulated in double, one row per OpenMP iteration."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CPP_SOURCE = r"""
// Only the headers this kernel uses: <torch/extension.h> would add the whole C++ frontend
// and double the build time.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <torch/csrc/utils/pybind.h>

at::Tensor sum_rows_forward(at::Tensor x) {
    TORCH_CHECK(x.dim() >= 1 && x.is_contiguous() && x.scalar_type() == at::kFloat, "contiguous float32 input expected");
    // The output drops the last dim: (batch, dim) -> (batch,).
    auto out_sizes = x.sizes().vec();
    out_sizes.pop_back();
    auto y = at::empty(out_sizes, x.options());
    const int64_t cols = x.size(-1), rows = y.numel();
    const float* src = x.data_ptr<float>();
    float* dst = y.data_ptr<float>();
    #pragma omp parallel for if (rows * cols >= 32768)
    for (int64_t r = 0; r < rows; ++r) {
        const float* in = src + r * cols;
        // A double accumulator keeps the error far below float32 rounding for thousands of terms.
        double sum = 0.0;
        #pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < cols; ++j) sum += in[j];
        dst[r] = static_cast<float>(sum);
    }
    return y;
}
"""

_ext = load_inline(
    name="kw_ops_sum_rows_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["sum_rows_forward"],
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
        return _ext.sum_rows_forward(x.contiguous())
