#!/usr/bin/env bash
# GPU check, run on a lent NVIDIA machine (no bubblewrap there, no package registry), in about six
# minutes: installs the carried wheels, puts the carried bwrap on PATH, makes the checkout
# importable as `kernelwright`, then, each step under `timeout` and within one overall budget:
#   1. Nsight Compute captures of one CUDA and one Triton example (scripts/ncu_capture.py) into
#      $OUT/ncu/ — first, since they are what we most need;
#   2. `kernelwright doctor` (which sandbox level works there, and why not bwrap);
#   3. the examples' evaluations (CUDA ones built in the background from the start; Pallas ones
#      on the GPU where the machine's jax has its CUDA plugin, else interpreted);
#   4. the tests marked `gpu`;
# and prints one short table last. A failing step is recorded and the script goes on.
#
# Build .device/ first, here: bash scripts/device_bundle.sh; then run this with .device carried.
#   KW_EXAMPLES="triton/relu cuda/matmul"   examples evaluated (default: matmul and relu of each)
#   KW_NCU_EXAMPLES="cuda/matmul triton/matmul"   examples profiled with ncu
#   KW_BUDGET_S=330   seconds for the whole script; steps that would start later are skipped
set -u
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/kw-device-out}
mkdir -p "$OUT/verdicts" "$OUT/ncu" "$OUT/logs"
py=${KW_PYTHON:-python3}
start=$(date +%s)
budget=${KW_BUDGET_S:-330}
elapsed() { echo $(($(date +%s) - start)); }
steps=()

# step NAME SECONDS COMMAND...: run under timeout (cut to what is left of the budget), output to
# $OUT/logs/NAME.log, and record the exit status (124: timed out; "skipped": no time left).
step() {
  local name=$1 limit=$2 left t0 rc
  shift 2
  left=$((budget - $(elapsed)))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 10 ]; then
    steps+=("$name skipped 0")
    echo "[$(elapsed)s] $name skipped: budget spent"
    return 0
  fi
  t0=$(date +%s)
  timeout -k 10 "$limit" "$@" >"$OUT/logs/$name.log" 2>"$OUT/logs/$name.err"
  rc=$?
  steps+=("$name $rc $(($(date +%s) - t0))")
  local last
  last=$(tail -1 "$OUT/logs/$name.log")
  [ "$rc" != 0 ] && [ -s "$OUT/logs/$name.err" ] && last=$(tail -1 "$OUT/logs/$name.err")
  echo "[$(elapsed)s] $name rc=$rc ${last:0:110}"
  return 0
}

# --- setup: wheels after the system's packages, the checkout as `kernelwright`, bwrap on PATH ---
chmod +x .device/bin/* .device/libexec/* 2>/dev/null
wheels=$(ls .device/wheels/*.whl .whl/*.whl 2>/dev/null)
if [ -n "$wheels" ]; then
  # --no-deps: the system's torch, numpy, triton and jax stay as they are. Without pip, a wheel
  # is a zip file and unpacking it is an install.
  how=pip
  timeout 120 $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site $wheels >"$OUT/logs/wheels.log" 2>&1 || {
    how=unzip
    $py -c 'import sys, zipfile; [zipfile.ZipFile(w).extractall("/tmp/site") for w in sys.argv[1:]]' \
      $wheels >>"$OUT/logs/wheels.log" 2>&1 || how=failed
  }
  echo "wheels: $(echo "$wheels" | wc -w) into /tmp/site ($how)"
fi
# The last site-packages folder, so that /tmp/site comes after every one of the system's.
site=$($py -c "import os, site; print([p for p in site.getsitepackages() if os.path.isdir(p)][-1])")
# The repository root is the package: expose it as `kernelwright` through a .pth file, which the
# sandboxed children (started with `python -I`) read too.
mkdir -p /tmp/kwpath && ln -sfn "$PWD" /tmp/kwpath/kernelwright
printf '/tmp/kwpath\n/tmp/site\n' >"$site/kernelwright-dev.pth" || echo "cannot write $site: kernelwright is not importable"
export PATH="$PWD/.device/bin:/tmp/site/bin:$PATH"
export KERNELWRIGHT_CACHE_DIR=/tmp/kwcache KERNELWRIGHT_REP_MS=${KERNELWRIGHT_REP_MS:-50} KERNELWRIGHT_WARMUP_MS=10
export TORCH_EXTENSIONS_DIR=/tmp/kw-torch-ext
kw="$py -m kernelwright.cli"
{
  timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  timeout 30 $py -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)'
  for m in triton jax scipy sqlalchemy pydantic openai kernelwright; do
    timeout 30 $py -c "import $m; print('$m', getattr($m, '__version__', ''), $m.__file__)" 2>&1 | tail -1
  done
  echo "ncu: $(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)"
  echo "bwrap: $(command -v bwrap) $(bwrap --version 2>&1)"
  echo "uid $(id -u); user namespaces max: $(cat /proc/sys/user/max_user_namespaces 2>/dev/null)"
  ldd --version 2>&1 | head -1
} >"$OUT/facts.txt" 2>&1
cat "$OUT/facts.txt"

# CUDA builds for the evaluations start now, in the background, and are cached for them.
examples=${KW_EXAMPLES:-cuda/relu triton/relu pallas/relu pallas/row_sum}
for e in $examples; do
  case $e in cuda/*)
    t=${e#cuda/}
    (timeout 200 $kw eval "examples/smoke/$e.py" --task "smoke/$t" --backend cuda --compile-only --json \
      >"$OUT/verdicts/build_$t.json" 2>"$OUT/logs/build_$t.err") &
    ;;
  esac
done

# --- 0. can a sandboxed child see the GPU, and which restriction stops it if not ----------------
step gpu_sandbox_probe 80 $py scripts/gpu_sandbox_probe.py
cat "$OUT/logs/gpu_sandbox_probe.log"

# --- 0b. what honest GPU builds import (the native-symbol allowlist) ----------------------------
[ -n "${KW_NATIVE_PROBE:-}" ] && step gpu_native_probe 200 bash scripts/gpu_native_probe.sh

# --- 1. Nsight Compute ---------------------------------------------------------------------------
for e in ${KW_NCU_EXAMPLES-cuda/matmul triton/matmul}; do
  limit=150
  case $e in triton/*) limit=100 ;; esac
  step "ncu_${e%%/*}_${e#*/}" "$limit" $py scripts/ncu_capture.py --profile "$OUT/ncu" \
    --budget $((limit - 5)) "examples/smoke/$e.py" "smoke/${e#*/}"
done

# --- 2. doctor ------------------------------------------------------------------------------------
step doctor 60 $kw doctor --json
cp "$OUT/logs/doctor.log" "$OUT/doctor.json" 2>/dev/null
sandbox=$($py -c "
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    s = d['sandbox']
    print(s['level'] + ('' if s['bwrap'] else ' -- bwrap cannot run here: ' + s['reason']))
    print('backends: ' + ', '.join(b['name'] + '=' + b['state'] for b in d['backends']))
except Exception as exc:
    print('unknown: doctor gave no report (logs/doctor.err)', type(exc).__name__)
" "$OUT/doctor.json" 2>&1)
echo "sandbox: $sandbox"

# --- 3. evaluations: Triton first (no build), then CUDA once the builds are done -----------------
run_eval() {
  local b=${1%%/*} t=${1#*/}
  step "eval_${b}_$t" 120 $kw eval "examples/smoke/$1.py" --task "smoke/$t" --backend "$b" --json
  cp "$OUT/logs/eval_${b}_$t.log" "$OUT/verdicts/${b}_$t.json" 2>/dev/null
}
for e in $examples; do case $e in triton/* | pallas/*) run_eval "$e" ;; esac; done
wait
for e in $examples; do case $e in cuda/*) run_eval "$e" ;; esac; done

# The same Triton verdict at the process level: the GPU path itself, whatever bwrap does there.
step eval_triton_relu_process 60 env KERNELWRIGHT_SANDBOX=process $kw eval examples/smoke/triton/relu.py \
  --task smoke/relu --backend triton --json
cp "$OUT/logs/eval_triton_relu_process.log" "$OUT/verdicts/triton_relu_process.json" 2>/dev/null
# The agents on the GPU: one scripted round through the scheduler's build and device stages.
$py -c 'import json, sys; src = open("examples/smoke/cuda/relu.py").read()
json.dump({"coder": ["```python\n" + src + "```\n"]}, open("/tmp/kw-script.json", "w"))'
step agent_run_cuda 90 $kw run --suite smoke --tasks relu --backend cuda \
  --model scripted:/tmp/kw-script.json --rounds 1 --json

# The profile phase: the sandboxed child under ncu, through the command users run; then
# compute-sanitizer's memcheck over one kernel, and CUDA graph timing where a forward is
# launch-bound (every figure lands in the verdict's JSON).
for e in cuda/matmul triton/matmul; do
  step "profile_${e%%/*}" 120 $kw profile "examples/smoke/$e.py" --task "smoke/${e#*/}" --json
done
step sanitize_cuda_relu 120 $kw eval examples/smoke/cuda/relu.py --task smoke/relu --backend cuda \
  --sanitize memcheck --json --detail
step graph_triton_linear_relu 120 env KERNELWRIGHT_CUDA_GRAPH=1 $kw eval \
  examples/smoke/triton/linear_relu.py --task smoke/linear_relu --backend triton --json --detail

# --- 4. tests -------------------------------------------------------------------------------------
step tests_gpu 150 $py -m pytest -q -m gpu -p no:cacheprovider -rs tests

# --- the table ------------------------------------------------------------------------------------
echo
echo "== verdicts =="
$py scripts/verdict_table.py "$OUT"/verdicts/cuda_*.json "$OUT"/verdicts/triton_*.json \
  "$OUT"/verdicts/pallas_*.json 2>&1 | tail -14
echo "== tests: $(grep -E '(passed|failed|error|skipped)' "$OUT/logs/tests_gpu.log" 2>/dev/null | tail -1)"
echo "== ncu =="
$py scripts/ncu_capture.py --table "$OUT/ncu" 2>&1 | tail -8
echo "== sandbox: ${sandbox%%$'\n'*}"
echo "== steps (rc 124: timed out), $(elapsed) s in all =="
printf '%-22s %8s %6s\n' step rc seconds
for s in "${steps[@]}"; do printf '%-22s %8s %6s\n' $s; done

# Few files come back from the device: everything goes back as one archive.
tar czf /tmp/kw-device.tar.gz -C "$OUT" . 2>/dev/null && find "$OUT" -mindepth 1 -delete &&
  mv /tmp/kw-device.tar.gz "$OUT/device.tar.gz" && echo "== $OUT/device.tar.gz: $(du -h "$OUT/device.tar.gz" | cut -f1)"
