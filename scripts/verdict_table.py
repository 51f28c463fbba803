"""Print a compact table of `kernelwright eval --json` outputs: one row per JSON file."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def fmt(value: object, spec: str = ".4g") -> str:
    return "-" if value is None else format(value, spec)


def main(paths: list[str]) -> int:
    header = f"{'task':28} {'backend':7} {'status':14} {'cand ms':>9} {'eager ms':>9} {'compile ms':>10} {'x eager':>8} {'x compile':>9}  reason"
    print(header)
    print("-" * len(header))
    for path in sorted(paths):
        try:
            v = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            print(f"{Path(path).stem:28} unreadable: {exc}")
            continue
        t, s = v["timing"], v["speedup"]
        reason = (
            ""
            if v["status"] in ("correct", "compiled")
            else (v["log"].splitlines() or [""])[0][:90]
        )
        print(
            f"{v['task']:28} {v['backend']:7} {v['status']:14} {fmt(t['candidate_ms']):>9} {fmt(t['eager_ms']):>9} "
            f"{fmt(t['compile_ms']):>10} {fmt(s['eager'], '.2f'):>8} {fmt(s['compile'], '.2f'):>9}  {reason}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
