"""Wall time of `kernelwright bench` over the smoke suite, cold and warm, against the kernel time.

For each backend (cpu: the C++ examples; triton: the Triton examples, interpreted on a machine
without a GPU), runs ``kernelwright bench examples/smoke/<backend> --suite smoke`` twice in one
fresh cache dir: first cold (no build, no stored baseline, no torch.compile cache), then warm
(everything the first run left). Each run is stored in a throwaway database and exported; the
kernel time is the sum of the raw timing samples of every verdict (the time spent in the
candidates' own calls). Prints, per backend and run, the wall time, the kernel time, their
ratio and the statuses; exits 1 when any verdict is not `correct`.

``--before`` runs with the settings of the verdict before warm workers, the precision rule and
the baseline store: every child started when its phase comes, every timing loop run to its
count and cap, baselines measured again for every task.

    python bench/suite_wall.py [--backends cpu triton] [--before] [--keep DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "smoke"


def _kw(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).parent / "kernelwright")
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env)


BEFORE = {"KERNELWRIGHT_WARM_WORKERS": "0", "KERNELWRIGHT_TIMING_PRECISION": "0"}


def one_run(backend: str, work: Path, name: str, before: bool) -> dict[str, Any]:
    env = {
        **os.environ,
        **(BEFORE if before else {}),
        "KERNELWRIGHT_CACHE_DIR": str(work / "cache"),
        "KERNELWRIGHT_DB": f"sqlite:///{work / 'runs.db'}",
    }
    start = time.perf_counter()
    done = _kw(
        ["bench", str(EXAMPLES / backend), "--suite", "smoke", "--backend", backend]
        + ["--label", f"{backend}-{name}", "--json"]
        + (["--fresh-baseline"] if before else []),
        env,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench failed ({done.returncode}):\n{done.stderr[-3000:]}")
    summary = json.loads(done.stdout)
    run_id = summary["run"]["id"]
    export = work / f"{backend}-{name}.jsonl"
    exported = _kw(["runs", "export", str(run_id), "--output", str(export)], env)
    if exported.returncode != 0:
        raise SystemExit(f"export failed:\n{exported.stderr[-2000:]}")
    kernel_ms = 0.0
    statuses: Counter[str] = Counter()
    for line in export.read_text().splitlines():
        result = json.loads(line)
        statuses[result["status"]] += 1
        kernel_ms += sum((result["record"].get("timing") or {}).get("samples") or [])
    return {
        "backend": backend,
        "run": name,
        "settings": "before" if before else "now",
        "wall_s": round(wall, 2),
        "kernel_s": round(kernel_ms / 1000.0, 3),
        "tasks": sum(statuses.values()),
        "statuses": dict(statuses),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["cpu", "triton"])
    parser.add_argument("--before", action="store_true", help="the settings of the old verdict")
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for backend in args.backends:
        work = args.keep / backend if args.keep else Path(tempfile.mkdtemp(prefix="kw-suite-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            for name in ("cold", "warm"):
                rows.append(one_run(backend, work, name, args.before))
                if not args.json:
                    print(f"{backend} {name}: {rows[-1]['wall_s']:.1f} s", file=sys.stderr)
        finally:
            if args.keep is None:
                shutil.rmtree(work, ignore_errors=True)
    bad = sum(n for row in rows for status, n in row["statuses"].items() if status != "correct")
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "rows": rows, "not_correct": bad}))
        return 1 if bad else 0
    print(f"{os.cpu_count()} CPUs, settings {'before' if args.before else 'now'}")
    print(
        f"{'backend':>8} {'run':>5} {'tasks':>5} {'wall s':>8} {'kernel s':>9} {'wall/kernel':>12}  statuses"
    )
    for row in rows:
        ratio = row["wall_s"] / row["kernel_s"] if row["kernel_s"] else float("inf")
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(row["statuses"].items()))
        print(
            f"{row['backend']:>8} {row['run']:>5} {row['tasks']:>5} {row['wall_s']:>8.1f} "
            f"{row['kernel_s']:>9.3f} {ratio:>12.0f}  {statuses}"
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
