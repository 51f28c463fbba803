"""Float32 matrix product as a row-parallel i-k-j loop in C++ (vectorizes over columns)."""

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

at::Tensor matmul_forward(at::Tensor a, at::Tensor b) {
    TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "(M, K) @ (K, N) expected");
    TORCH_CHECK(a.is_contiguous() && b.is_contiguous(), "contiguous inputs expected");
    TORCH_CHECK(a.scalar_type() == at::kFloat && b.scalar_type() == at::kFloat, "float32 inputs expected");
    const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
    auto c = at::empty({M, N}, a.options());
    const float* A = a.data_ptr<float>();
    const float* B = b.data_ptr<float>();
    float* C = c.data_ptr<float>();
    #pragma omp parallel for
    for (int64_t i = 0; i < M; ++i) {
        float* row = C + i * N;
        for (int64_t j = 0; j < N; ++j) row[j] = 0.f;
        for (int64_t k = 0; k < K; ++k) {
            const float aik = A[i * K + k];
            const float* brow = B + k * N;
            for (int64_t j = 0; j < N; ++j) row[j] += aik * brow[j];
        }
    }
    return c;
}
"""

_ext = load_inline(
    name="kw_smoke_matmul_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["matmul_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    no_implicit_headers=True,
    with_pytorch_error_handling=False,
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        return _ext.matmul_forward(A.contiguous(), B.contiguous())
