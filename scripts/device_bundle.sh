#!/usr/bin/env bash
# Build .device/ (ignored by git) for a lent GPU machine that has python 3.12, CUDA, torch, triton
# and jax but no package registry and no bubblewrap; scripts/device_check.sh uses it there:
#
#   .device/wheels/    py3.12 manylinux x86_64 wheels, no dependencies resolved there: every
#                      runtime and test dependency of kernelwright, pinned to the versions in this
#                      checkout's .venv (where the tests pass), less torch, numpy, triton, jax
#   .device/bin/bwrap  a wrapper that runs Debian 12's bubblewrap (.device/libexec/bwrap) with the
#                      libraries it was built against (.device/lib), so that PATH is all the
#                      sandbox needs; it needs glibc >= 2.34 there
#   .device/MANIFEST.txt  what is inside, with sizes and sha256 sums
#
# Run here (a Debian machine that reaches PyPI and Debian's archive):
#   bash scripts/device_bundle.sh        KW_BUNDLE_SCIPY=1 adds scipy (~35 MiB; jax brings it)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
limit_mib=50
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
next=.device.next
rm -rf "$next"
mkdir -p "$next/wheels" "$next/bin" "$next/lib" "$next/libexec"

# --- wheels: the closure of kernelwright's requirements, as installed in the venv -------------
roots="typer rich sqlalchemy alembic ninja openai anthropic nvidia-ml-py pytest pytest-timeout"
[ "${KW_BUNDLE_SCIPY:-0}" = 1 ] && roots="$roots scipy"
$py - $roots > "$work/pins.txt" <<'PY'
"""name==version of each root and of everything it requires on python 3.12 (extras left out),
read from the installed metadata; torch, numpy, triton and jax are the GPU machine's own."""
import re
import sys
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement

THEIRS = {"torch", "numpy", "triton", "jax", "jaxlib"}
env = {**default_environment(), "python_version": "3.12", "python_full_version": "3.12.0"}
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()  # noqa: E731
seen, todo = {}, [norm(n) for n in sys.argv[1:]]
while todo:
    name = todo.pop()
    if name in seen or name in THEIRS:
        continue
    dist = metadata.distribution(name)
    seen[name] = dist.version
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
            todo.append(norm(req.name))
for name in sorted(seen):
    print(f"{name}=={seen[name]}")
PY
echo "pinned $(wc -l < "$work/pins.txt") packages from $py"
"$py" -m pip download -q --no-deps --only-binary=:all: --dest "$next/wheels" \
  --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_24_x86_64 --platform manylinux_2_28_x86_64 --platform any \
  -r "$work/pins.txt"

# --- bubblewrap from Debian, with the shared libraries it links ----------------------------------
debs="bubblewrap libcap2 libselinux1 libpcre2-8-0"
if ! (cd "$work" && apt-get download $debs >/dev/null 2>&1); then
  apt-get update -qq
  (cd "$work" && apt-get download $debs >/dev/null)
fi
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/root"; done
cp -L "$work/root/usr/bin/bwrap" "$next/libexec/bwrap"
for lib in libcap.so.2 libselinux.so.1 libpcre2-8.so.0; do
  cp -L "$(find "$work/root" -name "$lib" | head -1)" "$next/lib/$lib"
done
cat > "$next/bin/bwrap" <<'SH'
#!/bin/sh
# Debian 12's bubblewrap with its own libcap, libselinux and libpcre2 (scripts/device_bundle.sh).
# The loader is run directly so that the libraries reach bwrap alone, not the sandboxed child.
here=$(cd "$(dirname "$0")/.." && pwd)
for ld in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
  if [ -x "$ld" ]; then exec "$ld" --library-path "$here/lib" "$here/libexec/bwrap" "$@"; fi
done
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/libexec/bwrap" "$@"
SH
chmod 755 "$next/bin/bwrap" "$next/libexec/bwrap"
"$next/bin/bwrap" --version

# --- manifest, size check, swap in ---------------------------------------------------------------
{
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/device_bundle.sh"
  echo "glibc needed by bwrap and its libraries:" \
    "$(objdump -T "$next"/libexec/bwrap "$next"/lib/* 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
  for deb in "$work"/*.deb; do echo "deb $(basename "$deb")"; done
  (cd "$next" && find . -type f ! -name MANIFEST.txt | sort | while read -r f; do
    echo "$(sha256sum "$f" | cut -c1-16) $(du -k "$f" | cut -f1)K $f"
  done)
} > "$next/MANIFEST.txt"
size=$(du -sm "$next" | cut -f1)
if [ "$size" -gt "$limit_mib" ]; then
  echo "device bundle is ${size} MiB, over the ${limit_mib} MiB limit: not installed" >&2
  exit 1
fi
rm -rf .device
mv "$next" .device
echo ".device: $(du -sh .device | cut -f1), $(ls .device/wheels | wc -l) wheels, bwrap $(.device/bin/bwrap --version)"
