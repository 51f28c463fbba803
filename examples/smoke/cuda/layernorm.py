"""Layer normalization as a CUDA kernel: one 256-thread block per row, two-pass mean and variance."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CPP_SOURCE = "torch::Tensor layernorm_forward(torch::Tensor x, torch::Tensor weight, torch::Tensor bias, double eps);"

CUDA_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>

constexpr int THREADS = 256;

// Sum over the block; every thread gets the total. blockDim.x must be a multiple of 32.
__device__ float block_sum(float v, float* smem) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if ((threadIdx.x & 31) == 0) smem[threadIdx.x >> 5] = v;
    __syncthreads();
    float total = 0.f;
    for (int w = 0; w < (int)(blockDim.x >> 5); ++w) total += smem[w];
    __syncthreads();
    return total;
}

__global__ void layernorm_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                 const float* __restrict__ b, float* __restrict__ y,
                                 int64_t features, float eps) {
    __shared__ float smem[32];
    const float* in = x + (int64_t)blockIdx.x * features;
    float* out = y + (int64_t)blockIdx.x * features;
    float s = 0.f;
    for (int64_t j = threadIdx.x; j < features; j += blockDim.x) s += in[j];
    const float mean = block_sum(s, smem) / features;
    float sq = 0.f;
    for (int64_t j = threadIdx.x; j < features; j += blockDim.x) {
        const float d = in[j] - mean;
        sq += d * d;
    }
    const float rstd = rsqrtf(block_sum(sq, smem) / features + eps);
    for (int64_t j = threadIdx.x; j < features; j += blockDim.x) out[j] = (in[j] - mean) * rstd * w[j] + b[j];
}

torch::Tensor layernorm_forward(torch::Tensor x, torch::Tensor weight, torch::Tensor bias, double eps) {
    TORCH_CHECK(x.is_cuda() && x.is_contiguous() && x.scalar_type() == torch::kFloat, "contiguous float32 CUDA input expected");
    const int64_t features = x.size(-1), rows = x.numel() / features;
    TORCH_CHECK(weight.is_contiguous() && bias.is_contiguous(), "contiguous parameters expected");
    TORCH_CHECK(weight.numel() == features && bias.numel() == features, "one weight and bias per feature");
    auto y = torch::empty_like(x);
    if (rows == 0) return y;
    layernorm_kernel<<<(unsigned)rows, THREADS, 0, at::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<float>(), weight.data_ptr<float>(), bias.data_ptr<float>(), y.data_ptr<float>(),
        features, (float)eps);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return y;
}
"""

_ext = load_inline(
    name="kw_smoke_layernorm_cuda",
    cpp_sources=CPP_SOURCE,
    cuda_sources=CUDA_SOURCE,
    functions=["layernorm_forward"],
    extra_cuda_cflags=["-O3"],
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
