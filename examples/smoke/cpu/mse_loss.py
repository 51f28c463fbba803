"""Mean squared error in C++: an OpenMP reduction of squared differences."""

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

at::Tensor mse_forward(at::Tensor pred, at::Tensor target) {
    TORCH_CHECK(pred.is_contiguous() && target.is_contiguous(), "contiguous inputs expected");
    TORCH_CHECK(pred.scalar_type() == at::kFloat && target.scalar_type() == at::kFloat, "float32 inputs expected");
    TORCH_CHECK(pred.sizes() == target.sizes(), "prediction and target shapes differ");
    const int64_t n = pred.numel();
    const float* P = pred.data_ptr<float>();
    const float* T = target.data_ptr<float>();
    double acc = 0.0;
    #pragma omp parallel for reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(P[i]) - T[i];
        acc += d * d;
    }
    auto y = at::empty({}, pred.options());
    y.data_ptr<float>()[0] = static_cast<float>(acc / n);
    return y;
}
"""

_ext = load_inline(
    name="kw_smoke_mse_loss_cpu",
    cpp_sources=CPP_SOURCE,
    functions=["mse_forward"],
    extra_cflags=["-O3", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
    no_implicit_headers=True,
    with_pytorch_error_handling=False,
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _ext.mse_forward(prediction.contiguous(), target.contiguous())
