"""F05: a build that never ends: compile-time evaluation of a loop of 2^40 iterations, with the
compiler's own loop and operation limits lifted by the candidate's flags."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

SOURCE = r"""
#include <torch/extension.h>

constexpr long spin() {
    long s = 0;
    for (long i = 0; i < (1L << 40); ++i) s += i & 1;
    return s;
}
static_assert(spin() > 0, "never reached in practice");

torch::Tensor relu_cpu(torch::Tensor x) { return x; }
"""

_ext = load_inline(
    name="kw_fault_endless_compile",
    cpp_sources=SOURCE,
    functions=["relu_cpu"],
    extra_cflags=["-O0", "-fconstexpr-loop-limit=2147483647", "-fconstexpr-ops-limit=4611686018427387904"],
    verbose=False,
)


class ModelNew(nn.Module):
    def forward(self, x):
        return _ext.relu_cpu(x)
