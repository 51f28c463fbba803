#!/usr/bin/env bash
# GPU check, run on a lent NVIDIA machine (no bubblewrap there, no package registry): installs
# carried wheels, makes the checkout importable as `kernelwright`, builds every CUDA example in
# parallel, then evaluates the CUDA and Triton examples one at a time (so timings don't overlap),
# runs the tests marked `gpu`, and prints a verdict table last.
set -u
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/kw-device-out}
mkdir -p "$OUT"
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
$kw doctor --json > "$OUT/doctor.json"; $py -c "import json;d=json.load(open('$OUT/doctor.json'));print([(b['name'],b['state']) for b in d['backends']], d['sandbox']['level'], d['tools']['ncu'])"

mkdir -p "$OUT/verdicts"
start=$(date +%s)
ls examples/smoke/cuda/*.py | xargs -P 8 -I{} sh -c 't=$(basename {} .py); '"$kw"' eval {} --task smoke/$t --backend cuda --compile-only --json > '"$OUT"'/verdicts/build_$t.json 2>/dev/null'
echo "parallel CUDA builds: $(( $(date +%s) - start )) s"
for f in examples/smoke/cuda/*.py examples/smoke/triton/*.py; do
  b=$(basename "$(dirname "$f")"); t=$(basename "$f" .py)
  timeout 180 $kw eval "$f" --task "smoke/$t" --backend "$b" --json > "$OUT/verdicts/${b}_$t.json" 2>"$OUT/verdicts/${b}_$t.err"
  echo "$b/$t rc=$? ($(( $(date +%s) - start )) s)"
  [ $(( $(date +%s) - start )) -gt ${KW_EVAL_BUDGET_S:-330} ] && { echo "eval budget spent; stopping"; break; }
done
timeout ${KW_TEST_BUDGET_S:-120} $py -m pytest -q -m gpu -p no:cacheprovider tests 2>&1 | tail -25
echo "== verdicts =="
$py scripts/verdict_table.py "$OUT"/verdicts/cuda_*.json "$OUT"/verdicts/triton_*.json
