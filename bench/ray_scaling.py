"""Wall time of `kernelwright bench` on the smoke suite: the local executor against a Ray cluster
on this machine with 1 and 2 worker processes (nodes of one CPU each), as ratios.

Every configuration runs ``bench examples/smoke/<backend> --suite smoke`` in one shared, warm
build cache (a first local run, not counted, fills it and the baseline store), each in its own
database, in the order local -j N, ray with 1 worker, ray with 2 workers, ``--repeat`` times;
the median wall time of each is reported with its ratio to the local run, and the statuses must
agree with the local run's (exit 1 if not). Ray's start-up (its head and nodes) is not counted;
the driver's connection to the cluster is. The head node runs no evaluation (zero CPUs), so
"1 worker" and "2 workers" count the processes that evaluate.

    python bench/ray_scaling.py [--backend triton] [--jobs 2] [--repeat 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "smoke"


def _bench(env: dict[str, str], backend: str, extra: list[str]) -> tuple[float, dict[str, str]]:
    exe = str(Path(sys.executable).parent / "kernelwright")
    args = ["bench", str(EXAMPLES / backend), "--suite", "smoke", "--backend", backend, "--json"]
    start = time.perf_counter()
    done = subprocess.run([exe, *args, *extra], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench failed ({done.returncode}):\n{done.stderr[-3000:]}")
    tasks = json.loads(done.stdout)["tasks"]
    return wall, {t["task_id"]: t["status"] for t in tasks if t["status"] != "missing"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="triton", choices=("triton", "cpu"))
    parser.add_argument("--jobs", type=int, default=2, help="-j of the local run")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    work = Path(tempfile.mkdtemp(prefix="kw-ray-scaling-"))
    base = {
        **os.environ,
        "KERNELWRIGHT_CACHE_DIR": str(work / "cache"),
        "KERNELWRIGHT_CONFIG": os.devnull,
        "RAY_USAGE_STATS_ENABLED": "0",
    }

    def env(name: str) -> dict[str, str]:
        return {**base, "KERNELWRIGHT_DB": f"sqlite:///{work / name}.db"}

    _bench(env("warm-up"), args.backend, ["-j", str(args.jobs)])
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    walls: dict[str, list[float]] = {"local": [], "ray-1": [], "ray-2": []}
    statuses: dict[str, dict[str, str]] = {}
    try:
        for i in range(args.repeat):
            walls["local"].append(_run(env, f"local-{i}", args, [], statuses, "local"))
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            ray = ["--executor", "ray", "--ray-address", cluster.address]
            walls["ray-1"].append(_run(env, f"ray1-{i}", args, ray, statuses, "ray-1"))
            second = cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            walls["ray-2"].append(_run(env, f"ray2-{i}", args, ray, statuses, "ray-2"))
            for node in list(cluster.worker_nodes):
                cluster.remove_node(node)
            del second
    finally:
        cluster.shutdown()
    local = statistics.median(walls["local"])
    rows = [
        {
            "executor": name,
            "wall_s": round(statistics.median(w), 1),
            "ratio_to_local": round(statistics.median(w) / local, 2),
            "statuses_match_local": statuses[name] == statuses["local"],
        }
        for name, w in walls.items()
    ]
    report: dict[str, Any] = {
        "backend": args.backend,
        "local_jobs": args.jobs,
        "tasks": len(statuses["local"]),
        "cores": os.cpu_count(),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"bench on smoke ({args.backend}, {report['tasks']} tasks, {report['cores']} cores); "
            f"local -j {args.jobs} is the baseline"
        )
        for row in rows:
            print(
                f"  {row['executor']:<6} {row['wall_s']:>7.1f} s  x{row['ratio_to_local']:.2f}"
                f"  statuses {'match' if row['statuses_match_local'] else 'DIFFER'}"
            )
    return 0 if all(r["statuses_match_local"] for r in rows) else 1


def _run(
    env: Any,
    db: str,
    args: argparse.Namespace,
    extra: list[str],
    statuses: dict[str, dict[str, str]],
    name: str,
) -> float:
    jobs = ["-j", str(args.jobs)] if not extra else []
    wall, seen = _bench(env(db), args.backend, jobs + extra)
    statuses[name] = seen
    return wall


if __name__ == "__main__":
    raise SystemExit(main())
