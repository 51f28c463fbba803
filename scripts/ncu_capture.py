"""Capture Nsight Compute metrics of one example candidate on an NVIDIA machine, keeping
everything ncu said, so that the parsers in ``backends/ncu.py`` can be checked on real output.

    ncu_capture.py --profile OUTDIR [--name NAME] CANDIDATE TASK    profile into OUTDIR
    ncu_capture.py --target CANDIDATE TASK [--iters N]              ncu's target (runs the kernels)
    ncu_capture.py --dump-json REPORT OUT.json --metrics a,b        the ncu_report module's view
    ncu_capture.py --table OUTDIR                                   one line per capture

``--profile`` saves ``ncu --version`` and ``ncu --query-metrics --csv`` (once per OUTDIR), asks
for the metrics of ``METRIC_GROUPS`` that the chip knows, builds the candidate once without ncu
(so nvcc and Triton's compiler do not run under the profiler), runs ncu on this script in
``--target`` mode, exports the report's raw page (auto and base units) and details page as CSV,
dumps it to JSON with ``ncu_report`` where that module is found, parses what it can, and writes
``NAME.capture.json`` plus every command run to ``COMMANDS.txt``. The example candidates are
trusted files of this repository: nothing here is sandboxed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kernelwright.backends.ncu import (
    ALL_METRICS,
    NVTX_RANGE,
    available_metrics,
    find_ncu,
    find_ncu_report_module,
    ncu_command,
    ncu_import_command,
    parse_csv,
    parse_query_metrics,
    parse_report_json,
    summarize,
)

SCRIPT = Path(__file__).resolve()
# Enough for the example's kernels over a few forward calls; each costs several replay passes.
LAUNCH_COUNT = 10
# What is asked for when ncu refuses the curated set for a reason it does not name.
MINIMAL = ("gpu__time_duration.sum", "launch__grid_size", "launch__block_size")
PERMISSION = "ERR_NVGPUCTRPERM"


class Log:
    """COMMANDS.txt: every command run, with its exit status and time."""

    def __init__(self, outdir: Path, budget: float) -> None:
        self.path = outdir / "COMMANDS.txt"
        self.deadline = time.monotonic() + budget

    def run(
        self,
        argv: list[str],
        stdout: Path | None,
        timeout: float,
        env: dict[str, str] | None = None,
    ) -> tuple[int | None, str, float]:
        """Run ``argv``; stdout (and stderr, after it) go to ``stdout`` when given.
        Returns (exit status or None on timeout/failure to start, the output text, seconds)."""
        start = time.monotonic()
        timeout = max(1.0, min(timeout, self.deadline - start))
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, errors="replace", timeout=timeout, env=env
            )
            rc: int | None = done.returncode
            out, err = done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            rc, out, err = None, _text(exc.stdout), _text(exc.stderr) + f"\n[timed out {timeout}s]"
        except OSError as exc:
            rc, out, err = None, "", f"[could not start: {exc}]"
        seconds = time.monotonic() - start
        if stdout is not None:
            stdout.write_text(out)
            if err.strip():
                stdout.with_name(stdout.name + ".stderr").write_text(err)
        with self.path.open("a") as log:
            extra = {k: v for k, v in (env or {}).items() if os.environ.get(k) != v}
            prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in sorted(extra.items()))
            log.write(f"{prefix}{shlex.join(argv)}\n    rc={rc} {seconds:.1f}s")
            log.write(f" > {stdout.name}\n" if stdout is not None else "\n")
        return rc, out + err, seconds


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


# --- target mode: the process ncu profiles ----------------------------------------------------


def run_target(candidate: Path, task_ref: str, iters: int) -> int:
    """Build the candidate and the task's inputs, check one output against the task's Model, then
    run ``iters`` forward calls inside the NVTX range that ncu profiles."""
    import torch

    from kernelwright.bench_tasks.task import call_with_config, resolve_task

    task = resolve_task(task_ref)
    module = task.module()
    config = dict(task.default_config)
    torch.manual_seed(0)
    init_inputs = list(call_with_config(module.get_init_inputs, config))
    inputs = [
        x.cuda() if isinstance(x, torch.Tensor) else x
        for x in call_with_config(module.get_inputs, config)
    ]
    spec = importlib.util.spec_from_file_location("candidate", candidate)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {candidate}")
    cand = importlib.util.module_from_spec(spec)
    sys.modules["candidate"] = cand
    spec.loader.exec_module(cand)
    torch.manual_seed(1)
    reference = module.Model(*init_inputs).cuda()
    torch.manual_seed(1)
    model = cand.ModelNew(*init_inputs)
    if model.state_dict().keys() == reference.state_dict().keys():
        model.load_state_dict(reference.state_dict())
    model = model.cuda()
    with torch.no_grad():
        expected = reference(*inputs)
        out = model(*inputs)  # outside the range: Triton compiles and autotunes here
        torch.cuda.synchronize()
        if isinstance(out, torch.Tensor) and isinstance(expected, torch.Tensor):
            err = (out.double() - expected.double()).abs().max().item()
            print(f"reference check: max abs error {err:.3g}", flush=True)
        start = time.perf_counter()
        with torch.cuda.nvtx.range(NVTX_RANGE):
            for _ in range(iters):
                model(*inputs)
        torch.cuda.synchronize()
    print(f"{iters} forward calls in the range: {(time.perf_counter() - start) * 1e3:.1f} ms")
    return 0


# --- dump mode: ncu_report's view of a report -------------------------------------------------


def dump_json(report: Path, out: Path, metrics: list[str]) -> int:
    """Each kernel's name and each requested metric's value and unit, as ``ncu_report`` reads
    them (the module's folder must be on ``sys.path``)."""
    import ncu_report

    context = ncu_report.load_report(str(report))
    kernels = []
    for r in range(context.num_ranges()):
        launches = context.range_by_idx(r)
        for a in range(launches.num_actions()):
            action = launches.action_by_idx(a)
            entry: dict[str, Any] = {"name": action.name(), "metrics": {}}
            for name in metrics:
                metric = action.metric_by_name(name)
                if metric is None:
                    continue
                try:
                    value: float | None = float(metric.as_double())
                except Exception:  # a string-valued metric, or one the module cannot convert
                    value = None
                entry["metrics"][name] = {"value": value, "unit": str(metric.unit())}
            kernels.append(entry)
    out.write_text(json.dumps({"report": report.name, "kernels": kernels}, indent=1))
    print(f"{len(kernels)} kernels")
    return 0


# --- profile mode -----------------------------------------------------------------------------


def _once(log: Log, outdir: Path, name: str, argv: list[str], timeout: float) -> str:
    """Output of a command saved once per OUTDIR (ncu's version, the chip's metrics)."""
    path = outdir / name
    if not path.exists():
        log.run(argv, path, timeout)
    return path.read_text() if path.exists() else ""


def _named_in(text: str, metrics: list[str]) -> list[str]:
    return [m for m in metrics if m in text]


def _profile_runs(
    log: Log, ncu: str, outdir: Path, name: str, target: list[str], metrics: list[str]
) -> dict[str, Any]:
    """Run ncu until it writes a report: the known metrics, then without those its errors name,
    then a minimal set. Stops at once when profiling is not permitted."""
    result: dict[str, Any] = {"attempts": [], "dropped_after_error": [], "status": "failed"}
    report = outdir / f"{name}.ncu-rep"
    tried: list[list[str]] = []
    wanted = list(metrics)
    while wanted and wanted not in tried and len(tried) < 3:
        tried.append(wanted)
        argv = ncu_command(
            wanted, outdir / name, NVTX_RANGE, target, ncu=ncu, launch_count=LAUNCH_COUNT
        )
        logfile = outdir / f"{name}.ncu.{len(tried)}.log"
        report.unlink(missing_ok=True)
        rc, output, seconds = log.run(argv, logfile, timeout=240)
        result["attempts"].append(
            {"metrics": len(wanted), "rc": rc, "seconds": round(seconds, 1), "log": logfile.name}
        )
        if PERMISSION in output:
            result["status"] = "permission_denied"
            return result
        if "No kernels were profiled" in output:
            result.update(status="no_kernels", requested=wanted)
            return result
        if rc == 0 and report.is_file():
            result.update(status="profiled", requested=wanted)
            return result
        named = _named_in(output, wanted)
        if named:
            result["dropped_after_error"] += named
            wanted = [m for m in wanted if m not in named]
        else:
            wanted = [m for m in MINIMAL if m in metrics] or list(MINIMAL)
    return result


def _parse_exports(
    log: Log, ncu: str, outdir: Path, name: str, requested: list[str]
) -> dict[str, Any]:
    """Export the report as CSV (and JSON where ncu_report is found) and parse each form."""
    report = outdir / f"{name}.ncu-rep"
    found: dict[str, Any] = {"summaries": {}, "parse_errors": {}}
    exports = {
        "raw": (ncu_import_command(report, "raw", ncu=ncu), f"{name}.raw.csv"),
        "raw_base": (
            ncu_import_command(report, "raw", ncu=ncu, base_units=True),
            f"{name}.raw-base.csv",
        ),
        "details": (ncu_import_command(report, "details", ncu=ncu), f"{name}.details.csv"),
    }
    for form, (argv, filename) in exports.items():
        log.run(argv, outdir / filename, timeout=120)
        if form == "details":
            continue
        try:
            profiles = parse_csv((outdir / filename).read_text(), requested)
            found["summaries"][form] = summarize(profiles)
        except (OSError, ValueError) as exc:
            found["parse_errors"][form] = str(exc)
    module = find_ncu_report_module(ncu)
    found["ncu_report_module"] = str(module) if module else None
    if module is not None:
        out = outdir / f"{name}.json"
        pythonpath = os.pathsep.join(filter(None, [str(module), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": pythonpath}
        argv = [sys.executable, str(SCRIPT), "--dump-json", str(report), str(out)]
        log.run([*argv, "--metrics", ",".join(requested)], outdir / f"{name}.json.log", 120, env)
        try:
            found["summaries"]["json"] = summarize(parse_report_json(out.read_text()))
        except (OSError, ValueError) as exc:
            found["parse_errors"]["json"] = str(exc)
    return found


def _disagreements(summaries: dict[str, Any]) -> list[str]:
    """Metrics whose summary differs between the exports: auto units against base units (is
    ncu's ``Kbyte`` 1000 bytes?) and CSV against ``ncu_report``."""
    first = summaries.get("raw_base") or summaries.get("raw")
    differ = []
    for form, other in summaries.items():
        if first is None or other is first:
            continue
        for group, values in first.items():
            if not isinstance(values, dict) or group == "units":
                continue
            for metric, value in values.items():
                theirs = other.get(group, {}).get(metric)
                if (value is None) != (theirs is None) or (
                    value is not None and abs(value - theirs) > 1e-6 * max(abs(value), 1.0)
                ):
                    differ.append(f"{form}: {group}.{metric} {theirs} vs {value}")
    return differ


def profile(
    candidate: Path, task_ref: str, outdir: Path, name: str, iters: int, budget: float
) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    log = Log(outdir, budget)
    capture: dict[str, Any] = {"name": name, "candidate": str(candidate), "task": task_ref}
    summary_path = outdir / f"{name}.capture.json"
    capture["status"] = "started"  # what a capture killed from outside leaves
    summary_path.write_text(json.dumps(capture, indent=1))
    ncu = find_ncu()
    capture["ncu"] = ncu
    if ncu is None:
        capture["status"] = "no_ncu"
        summary_path.write_text(json.dumps(capture, indent=1))
        print(f"{name}: ncu not found (PATH, $CUDA_HOME/bin, /usr/local/cuda*, /opt/nvidia)")
        return 3
    capture["ncu_version"] = _once(log, outdir, "ncu_version.txt", [ncu, "--version"], 60).strip()
    query = _once(log, outdir, "query_metrics.csv", [ncu, "--query-metrics", "--csv"], 120)
    known = parse_query_metrics(query)
    # A query that lists only a handful of names was not understood: ask for everything.
    kept, missing = available_metrics(ALL_METRICS, known if len(known) >= 50 else set())
    capture.update(query_metric_names=len(known), missing_by_query=missing)
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", "/tmp/kw-ncu-torch-ext")
    target = [sys.executable, str(SCRIPT), "--target", str(candidate), task_ref]
    rc, output, seconds = log.run(
        [*target, "--iters", "1"], outdir / f"{name}.warm.log", timeout=300
    )
    capture["warm_run"] = {"rc": rc, "seconds": round(seconds, 1)}
    if rc != 0:
        capture["status"] = "candidate_failed"
        summary_path.write_text(json.dumps(capture, indent=1))
        print(f"{name}: the candidate failed without ncu (see {name}.warm.log)")
        return 1
    summary_path.write_text(json.dumps({**capture, "status": "profiling"}, indent=1))
    capture.update(_profile_runs(log, ncu, outdir, name, [*target, "--iters", str(iters)], kept))
    summary_path.write_text(json.dumps(capture, indent=1))
    if capture["status"] == "profiled":
        capture.update(_parse_exports(log, ncu, outdir, name, capture["requested"]))
        capture["units_disagree"] = _disagreements(capture["summaries"])
    summary_path.write_text(json.dumps(capture, indent=1))
    kernels = capture.get("summaries", {}).get("raw", {}).get("kernels", [])
    print(
        f"{name}: {capture['status']}, {len(kernels)} kernels, "
        f"{len(capture.get('requested', []))} metrics, missing {len(missing)}, "
        f"parse errors {sorted(capture.get('parse_errors', {})) or 'none'}"
    )
    return 0 if capture["status"] == "profiled" and not capture.get("parse_errors") else 1


def _cell(value: Any, scale: float = 1.0, spec: str = ".3g") -> str:
    return "-" if value is None else format(value * scale, spec)


def table(outdir: Path) -> int:
    """One line per capture in OUTDIR: status, size, and the headline metrics."""
    print(
        f"{'capture':16} {'status':17} {'kern':>4} {'metr':>4} {'miss':>4} {'us':>7} "
        f"{'SM%':>5} {'DRAM%':>5} {'occ%':>5} {'ld s/r':>6}  parse errors"
    )
    for path in sorted(outdir.glob("*.capture.json")):
        try:
            c = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            print(f"{path.name}: unreadable: {exc}")
            continue
        s = c.get("summaries", {}).get("raw_base") or c.get("summaries", {}).get("raw") or {}
        sol, occ, acc = s.get("speed_of_light", {}), s.get("occupancy", {}), s.get("access", {})
        dram = sol.get("gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed")
        dram = sol.get("dram__throughput.avg.pct_of_peak_sustained_elapsed", dram)
        print(
            f"{c.get('name', '?'):16} {c.get('status', '?'):17} {len(s.get('kernels', [])):>4} "
            f"{len(c.get('requested', [])):>4} {len(c.get('missing_by_query', [])):>4} "
            f"{_cell(sol.get('gpu__time_duration.sum'), 1e-3):>7} "
            f"{_cell(sol.get('sm__throughput.avg.pct_of_peak_sustained_elapsed')):>5} "
            f"{_cell(dram):>5} "
            f"{_cell(occ.get('sm__warps_active.avg.pct_of_peak_sustained_active')):>5} "
            f"{_cell(acc.get('global_ld_sectors_per_request')):>6}  "
            f"{','.join(sorted(c.get('parse_errors', {}))) or '-'}"
        )
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--profile", metavar="OUTDIR", type=Path)
    mode.add_argument("--target", action="store_true")
    mode.add_argument("--dump-json", nargs=2, metavar=("REPORT", "OUT"), type=Path)
    mode.add_argument("--table", metavar="OUTDIR", type=Path, help="summarize the captures")
    parser.add_argument("candidate", nargs="?", type=Path)
    parser.add_argument("task", nargs="?")
    parser.add_argument("--name", help="file name stem in OUTDIR (default: backend_task)")
    parser.add_argument("--iters", type=int, default=3, help="forward calls inside the range")
    parser.add_argument("--metrics", default="", help="--dump-json: comma-separated metrics")
    parser.add_argument("--budget", type=float, default=240.0, help="--profile: seconds in all")
    args = parser.parse_args(argv)
    if args.table:
        return table(args.table)
    if args.dump_json:
        return dump_json(args.dump_json[0], args.dump_json[1], args.metrics.split(","))
    if args.candidate is None or args.task is None:
        parser.error("CANDIDATE and TASK are required")
    candidate = args.candidate.resolve()
    if args.target:
        return run_target(candidate, args.task, args.iters)
    name = args.name or f"{candidate.parent.name}_{candidate.stem}"
    return profile(candidate, args.task, args.profile.resolve(), name, args.iters, args.budget)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
