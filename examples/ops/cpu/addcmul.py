"""addcmul a + 0.5 * b * c as an OpenMP loop in C++."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CPP_SOURCE = r"""
// Only the headers this kernel uses: <torch/extension.h> would add the whole C++ frontend
// and double the build time.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty_like.h>
#include <torch/csrc/utils/pybind.h>

at::Tensor addcmul_forward(at::Tensor a, at::Tensor b, at::Tensor c) {
    TORCH_CHECK(a.is_contiguous() && a.scalar_type() == at::kFloat, "contiguous float32 a expected");
    TORCH_CHECK(b.is_contiguous() && b.scalar_type() == at::kFloat && b.sizes() == a.sizes(), "contiguous float32 b of a's shape expected");
    TORCH_CHECK(c.is_contiguous() && c.scalar_type() == at::kFloat && c.sizes() == a.sizes(), "contiguous float32 c of a's shape expected");
    auto out = at::empty_like(a);
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    const float* pc = c.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const int64_t n = a.numel();
    #pragma omp parallel for simd if (n >= 32768)
    for (int64_t i = 0; i < n; ++i) dst[i] = pa[i] + 0.5f * pb[i] * pc[i];
    return out;
}
"""

_ext = load_inline(
    name="kw_ops_addcmul_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["addcmul_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    no_implicit_headers=True,
    with_pytorch_error_handling=False,
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return _ext.addcmul_forward(a.contiguous(), b.contiguous(), c.contiguous())
