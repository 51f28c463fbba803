#!/usr/bin/env bash
# What honest GPU builds import, for the native-symbol allowlist (E20): the undefined dynamic
# symbols, NEEDED libraries and link line of a CUDA example's load_inline build, and of the
# modules Triton builds at run time (driver glue, per-kernel launchers), each built outside any
# sandbox. Run on a GPU machine after device_check.sh's setup (it is sourced from there).
set -u
OUT=${OUT:-/tmp/kw-device-out}
py=${KW_PYTHON:-python3}
mkdir -p "$OUT/native"
dump() {
  local so=$1 name=$2
  {
    echo "== $so"
    readelf -d "$so" 2>/dev/null | grep -E 'NEEDED|RPATH|RUNPATH'
    nm -D --undefined-only "$so" 2>&1
  } >"$OUT/native/$name.txt"
}
# CUDA: the relu example built by torch's load_inline into a private extensions dir.
export TORCH_EXTENSIONS_DIR=/tmp/kw-native-ext
timeout 150 $py - <<'PY' >"$OUT/native/cuda_build.log" 2>&1
import importlib.util
spec = importlib.util.spec_from_file_location("relu_cuda", "examples/smoke/cuda/relu.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("built", module._ext.__file__)
PY
for so in $(find /tmp/kw-native-ext -name '*.so'); do dump "$so" "cuda_$(basename "$so" .so)"; done
cp /tmp/kw-native-ext/*/build.ninja "$OUT/native/cuda_build.ninja" 2>/dev/null
# Triton: one kernel run with a fresh cache; every .so Triton built on the way.
export TRITON_CACHE_DIR=/tmp/kw-native-triton
timeout 120 $py - <<'PY' >"$OUT/native/triton_run.log" 2>&1
import importlib.util, torch
spec = importlib.util.spec_from_file_location("relu_triton", "examples/smoke/triton/relu.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
x = torch.randn(1024, device="cuda")
print("max err", float((module.ModelNew()(x) - x.relu()).abs().max()))
PY
i=0
for so in $(find /tmp/kw-native-triton -name '*.so'); do
  i=$((i + 1))
  dump "$so" "triton_${i}_$(basename "$so" | cut -d. -f1)"
done
ls "$OUT/native"
