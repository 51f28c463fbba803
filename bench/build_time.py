"""Fresh C++ build time of the smoke examples: the headers they include against the whole frontend.

The C++ examples (examples/smoke/cpu) include only the ATen and pybind headers their kernels use
and pass ``no_implicit_headers=True, with_pytorch_error_handling=False`` to ``load_inline``. This
script builds each named example from nothing (a fresh ``TORCH_EXTENSIONS_DIR``), side by side with
the same example rewritten the usual way (``#include <torch/extension.h>``, ``load_inline``'s
defaults), alternating the two, in child processes; the time is that of importing the module once
torch is imported, which is the ``load_inline`` build and load. Prints every build, the medians and their ratio.

    python bench/build_time.py [--examples relu matmul softmax] [--reps 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "smoke" / "cpu"
# From the first line of the headers block to the last header, in every C++ example.
HEADERS = re.compile(r"(//[^\n]*\n)*#include <ATen/core/Tensor\.h>\n(#include <[^\n]*>\n)*")
LIGHT_KWARGS = "    no_implicit_headers=True,\n    with_pytorch_error_handling=False,\n"

# torch and its extension builder are imported before the clock starts: the time is the build.
CHILD = """
import importlib.util, sys, time
import torch, torch.nn, torch.utils.cpp_extension
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("candidate", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


def full_frontend(source: str) -> str:
    """The example as it would be written with ``<torch/extension.h>`` and the defaults."""
    heavy, count = HEADERS.subn("#include <torch/extension.h>\n", source, count=1)
    if count != 1 or LIGHT_KWARGS not in heavy:
        raise SystemExit("an example does not have the expected headers block and arguments")
    return heavy.replace(LIGHT_KWARGS, "")


def build_once(source: str, work: Path) -> float:
    work.mkdir(parents=True)
    path = work / "candidate.py"
    path.write_text(source)
    env = {**os.environ, "TORCH_EXTENSIONS_DIR": str(work / "ext"), "MAX_JOBS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", nargs="+", default=["relu", "matmul", "softmax"])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    times: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="kw-build-") as tmp:
        for name in args.examples:
            shipped = (EXAMPLES / f"{name}.py").read_text()
            variants = {"extension.h": full_frontend(shipped), "shipped": shipped}
            times[name] = {v: [] for v in variants}
            for rep in range(args.reps):
                for variant, source in variants.items():
                    seconds = build_once(source, Path(tmp) / f"{name}-{variant}-{rep}")
                    times[name][variant].append(seconds)
                    if not args.json:
                        print(f"{name} {variant} rep {rep}: {seconds:.1f} s", file=sys.stderr)
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "builds": times}))
        return 0
    print(f"fresh load_inline builds, {os.cpu_count()} CPUs (median s)")
    print(f"{'example':>10} {'extension.h':>12} {'shipped':>8} {'shipped/extension.h':>20}")
    for name, by_variant in times.items():
        heavy = statistics.median(by_variant["extension.h"])
        light = statistics.median(by_variant["shipped"])
        print(f"{name:>10} {heavy:>12.1f} {light:>8.1f} {light / heavy:>20.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
