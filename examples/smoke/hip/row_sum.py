"""Row sums as a HIP kernel: one 256-thread block per row, a shared-memory tree reduction."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CPP_SOURCE = "torch::Tensor row_sum_forward(torch::Tensor x);"

HIP_SOURCE = r"""
#include <hip/hip_runtime.h>
#include <torch/extension.h>

constexpr int THREADS = 256;  // a power of two

__global__ void row_sum_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t cols) {
    __shared__ float smem[THREADS];
    const float* in = x + (int64_t)blockIdx.x * cols;
    float s = 0.f;
    for (int64_t j = threadIdx.x; j < cols; j += THREADS) s += in[j];
    smem[threadIdx.x] = s;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half >>= 1) {
        if ((int)threadIdx.x < half) smem[threadIdx.x] += smem[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) y[blockIdx.x] = smem[0];
}

torch::Tensor row_sum_forward(torch::Tensor x) {
    TORCH_CHECK(x.is_cuda() && x.dim() >= 1 && x.is_contiguous() && x.scalar_type() == torch::kFloat,
                "contiguous float32 input on the GPU expected");
    const int64_t cols = x.size(-1), rows = cols == 0 ? 0 : x.numel() / cols;
    auto sizes = x.sizes().vec();
    sizes.pop_back();
    auto y = torch::empty(sizes, x.options());
    if (rows == 0) return y;
    hipLaunchKernelGGL(row_sum_kernel, dim3((unsigned)rows), dim3(THREADS), 0, 0,
                       x.data_ptr<float>(), y.data_ptr<float>(), cols);
    TORCH_CHECK(hipGetLastError() == hipSuccess, "row_sum kernel launch failed");
    return y;
}
"""

_ext = load_inline(
    name="kw_smoke_row_sum_hip",
    cpp_sources=CPP_SOURCE,
    cuda_sources=HIP_SOURCE,
    functions=["row_sum_forward"],
    extra_cuda_cflags=["-O3"],
    verbose=False,
)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ext.row_sum_forward(x.contiguous())
