"""SiLU on bfloat16 data as an OpenMP loop in C++, computed in float and rounded once."""

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

at::Tensor silu_bf16_forward(at::Tensor x) {
    TORCH_CHECK(x.is_contiguous() && x.scalar_type() == at::kBFloat16, "contiguous bfloat16 input expected");
    auto y = at::empty_like(x);
    const at::BFloat16* src = x.data_ptr<at::BFloat16>();
    at::BFloat16* dst = y.data_ptr<at::BFloat16>();
    const int64_t n = x.numel();
    #pragma omp parallel for
    for (int64_t i = 0; i < n; ++i) {
        const float v = static_cast<float>(src[i]);
        dst[i] = static_cast<at::BFloat16>(v / (1.f + std::exp(-v)));
    }
    return y;
}
"""

_ext = load_inline(
    name="kw_smoke_silu_bf16_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["silu_bf16_forward"],
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
        return _ext.silu_bf16_forward(x.contiguous())
