#!/usr/bin/env bash
# GPU check, run on a lent NVIDIA machine (no bubblewrap there, no package registry): installs
# carried wheels, makes the checkout importable as `kernelwright`, builds the CUDA examples in the
# background while the Triton examples are evaluated one at a time (so timings don't overlap),
# then evaluates the CUDA examples, runs the tests marked `gpu`, and prints a verdict table last.
#
#   KW_EXAMPLES="triton/relu cuda/matmul"   only these examples (default: every cuda and triton one)
#   KW_EVAL_BUDGET_S=300 KW_TEST_BUDGET_S=120   seconds for the evaluations and for the tests
set -u
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/kw-device-out}
mkdir -p "$OUT/verdicts"
py=python3
site=$($py -c "import site; print(site.getsitepackages()[0])")
if [ -d .whl ]; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
fi
# The repository root is the package: expose it as `kernelwright` through a .pth file, which the
# sandboxed children (started with `python -I`) read too.
mkdir -p /tmp/kwpath && ln -sfn "$PWD" /tmp/kwpath/kernelwright
printf '/tmp/kwpath\n/tmp/site\n' > "$site/kernelwright-dev.pth"
export KERNELWRIGHT_CACHE_DIR=/tmp/kwcache KERNELWRIGHT_REP_MS=${KERNELWRIGHT_REP_MS:-50} KERNELWRIGHT_WARMUP_MS=10
kw="$py -m kernelwright.cli"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
$kw doctor --json > "$OUT/doctor.json"
$py -c "import json; d = json.load(open('$OUT/doctor.json')); print([(b['name'], b['state']) for b in d['backends']], d['sandbox']['level'])"

examples=${KW_EXAMPLES:-$(cd examples/smoke && ls cuda/*.py triton/*.py | sed 's/\.py$//')}
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }
for e in $examples; do
  case $e in cuda/*) t=${e#cuda/}
    ( $kw eval "examples/smoke/$e.py" --task "smoke/$t" --backend cuda --compile-only --json > "$OUT/verdicts/build_$t.json" 2>/dev/null ) & ;;
  esac
done
run_eval() {
  local b=${1%%/*} t=${1#*/}
  timeout 180 $kw eval "examples/smoke/$1.py" --task "smoke/$t" --backend "$b" --json > "$OUT/verdicts/${b}_$t.json" 2>"$OUT/verdicts/${b}_$t.err"
  echo "$1 rc=$? ($(elapsed) s)"
}
for e in $examples; do case $e in triton/*) run_eval "$e"; [ "$(elapsed)" -gt "${KW_EVAL_BUDGET_S:-300}" ] && break;; esac; done
wait
echo "CUDA builds done ($(elapsed) s)"
for e in $examples; do case $e in cuda/*) run_eval "$e"; [ "$(elapsed)" -gt "${KW_EVAL_BUDGET_S:-300}" ] && break;; esac; done
timeout "${KW_TEST_BUDGET_S:-120}" $py -m pytest -q -m gpu -p no:cacheprovider -rs tests 2>&1 | tail -15
echo "== verdicts =="
$py scripts/verdict_table.py "$OUT"/verdicts/cuda_*.json "$OUT"/verdicts/triton_*.json
