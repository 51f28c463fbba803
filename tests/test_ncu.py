"""Nsight Compute: the metric set, the command line, and the parsers on hand-written files in
ncu's documented layouts (tests/data/ncu/README.md), hostile ones included."""

from __future__ import annotations

import contextlib
import json
import os
import random
import stat
from pathlib import Path

import pytest

from kernelwright.backends import ncu
from kernelwright.backends.ncu import (
    ALL_METRICS,
    METRIC_GROUPS,
    METRIC_NAME,
    KernelProfile,
    aggregation,
    available_metrics,
    find_ncu,
    find_ncu_report_module,
    ncu_command,
    normalize,
    parse_csv,
    parse_query_metrics,
    parse_report_json,
    summarize,
)

DATA = Path(__file__).parent / "data" / "ncu"
AUTO = (DATA / "two_kernels.raw.csv").read_text()
BASE = (DATA / "two_kernels.raw-base.csv").read_text()
SP = "sm__throughput.avg.pct_of_peak_sustained_elapsed"
LD_SECTORS = "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum"


def test_metric_groups_are_well_formed() -> None:
    assert set(METRIC_GROUPS) == {"speed_of_light", "compute", "memory", "access", "occupancy"}
    assert len(ALL_METRICS) == len(set(ALL_METRICS))
    assert 30 <= len(ALL_METRICS) <= 45
    assert all(METRIC_NAME.fullmatch(m) for m in ALL_METRICS)
    assert "gpu__time_duration.sum" in METRIC_GROUPS["speed_of_light"]
    stalls = [m for m in METRIC_GROUPS["occupancy"] if "issue_stalled" in m]
    assert len(stalls) >= 5 and all(m.endswith("_per_issue_active.ratio") for m in stalls)


def test_aggregation_kinds() -> None:
    assert aggregation("gpu__time_duration.sum") == "sum"
    assert aggregation("dram__bytes_read.sum") == "sum"
    assert aggregation("lts__t_sector_hit_rate.pct") == "weighted"
    assert aggregation(SP) == "weighted"
    assert aggregation("sm__maximum_warps_per_active_cycle_pct") == "weighted"
    assert aggregation("launch__registers_per_thread") == "dominant"


def test_ncu_command_profiles_only_the_nvtx_range() -> None:
    target = ["python", "scripts/ncu_capture.py", "--target", "c.py", "smoke/matmul"]
    argv = ncu_command(["gpu__time_duration.sum", SP], "/out/rep", "kw_candidate", target)
    assert argv[0] == "ncu"
    assert argv[-len(target) :] == target
    opts = argv[: -len(target)]
    assert "--nvtx" in opts
    assert opts[opts.index("--nvtx-include") + 1] == "kw_candidate/"
    assert opts[opts.index("--target-processes") + 1] == "all"
    assert opts[opts.index("--metrics") + 1] == f"gpu__time_duration.sum,{SP}"
    assert opts[opts.index("-o") + 1] == "/out/rep"
    assert "--force-overwrite" in opts
    assert 1 <= int(opts[opts.index("--launch-count") + 1]) <= 50
    # Nothing widens or replaces the range filter: no other kernel or range selection.
    assert not {"--nvtx-exclude", "--kernel-name", "-k", "--section", "--set"} & set(opts)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"metrics": []},
        {"metrics": ["dram__bytes.sum,--set=full"]},
        {"metrics": ["--section"]},
        {"nvtx_range": "a/b"},
        {"nvtx_range": ""},
        {"target_cmd": []},
        {"launch_count": 0},
        {"launch_count": True},
    ],
)
def test_ncu_command_refuses_bad_arguments(kwargs: dict) -> None:
    args = {
        "metrics": ["gpu__time_duration.sum"],
        "report_path": "r",
        "nvtx_range": "kw_candidate",
        "target_cmd": ["python", "t.py"],
        **kwargs,
    }
    with pytest.raises(ValueError):
        ncu_command(**args)


def test_parse_csv_reads_the_raw_page() -> None:
    profiles = parse_csv(AUTO)
    assert [p.name.split("(")[0] for p in profiles] == [
        "matmul_kernel",
        "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>>",
    ]
    first, second = profiles
    assert first.metrics["gpu__time_duration.sum"] == 3000.0
    assert first.units["gpu__time_duration.sum"] == "nsecond"
    assert first.metrics["dram__bytes_read.sum"] == 1.5e6
    assert first.units["dram__bytes_read.sum"] == "byte"
    assert first.metrics[LD_SECTORS] == 1048576.0
    assert first.metrics["sm__cycles_elapsed.avg.per_second"] == pytest.approx(1.98e9)
    assert first.units["sm__cycles_elapsed.avg.per_second"] == "cycle/second"
    assert second.metrics["dram__bytes_write.sum"] is None  # n/a
    assert second.metrics["launch__grid_size"] == 1056.0
    # Columns that are not requested metrics (the device's name) are not read.
    assert "device__attribute_display_name" not in first.metrics


def test_auto_units_base_units_and_json_agree() -> None:
    auto, base = summarize(parse_csv(AUTO)), summarize(parse_csv(BASE))
    from_json = summarize(parse_report_json(json.loads((DATA / "two_kernels.json").read_text())))
    for other in (base, from_json):
        assert other["kernels"] == auto["kernels"] and other["units"] == auto["units"]
        for group in METRIC_GROUPS:
            assert other[group] == pytest.approx(auto[group], rel=1e-12)


def test_summarize_weights_by_duration_and_derives_sectors_per_request() -> None:
    s = summarize(parse_csv(AUTO))
    sol, memory, access, occupancy = (
        s["speed_of_light"],
        s["memory"],
        s["access"],
        s["occupancy"],
    )
    assert sol["gpu__time_duration.sum"] == 4000.0
    assert sol[SP] == pytest.approx((3 * 80 + 1 * 40) / 4)
    assert memory["lts__t_sector_hit_rate.pct"] == pytest.approx((3 * 90.25 + 1 * 50) / 4)
    assert memory["dram__bytes_read.sum"] == 2e6
    assert memory["dram__bytes_write.sum"] == 512e3  # the n/a kernel adds nothing
    assert access["global_ld_sectors_per_request"] == pytest.approx(
        (1048576 + 4096) / (262144 + 128)
    )
    assert access["global_st_sectors_per_request"] == 8.0
    assert access["l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum"] == 128.0
    # Launch configuration is the longest kernel's, not a sum or an average.
    assert occupancy["launch__registers_per_thread"] == 32.0
    assert occupancy["launch__block_size"] == 256.0
    assert "sm__maximum_warps_per_active_cycle_pct" not in occupancy  # not in the file
    assert s["units"]["gpu__time_duration.sum"] == "nsecond"
    json.dumps(s, allow_nan=False)


def test_summarize_uses_equal_weights_without_every_duration() -> None:
    profiles = [
        KernelProfile("a", {SP: 80.0, "gpu__time_duration.sum": 3.0}, {SP: "%"}),
        KernelProfile("b", {SP: 40.0, "gpu__time_duration.sum": None}, {SP: "%"}),
    ]
    assert summarize(profiles)["speed_of_light"][SP] == 60.0
    assert summarize([])["access"]["global_ld_sectors_per_request"] is None


def test_summarize_refuses_mixed_units() -> None:
    profiles = [
        KernelProfile("a", {"dram__bytes_read.sum": 1.0}, {"dram__bytes_read.sum": "byte"}),
        KernelProfile("b", {"dram__bytes_read.sum": 1.0}, {"dram__bytes_read.sum": "sector"}),
    ]
    with pytest.raises(ValueError, match="different units"):
        summarize(profiles)


def test_normalize() -> None:
    assert normalize(1.5, "usecond") == (1500.0, "nsecond")
    assert normalize(2.0, "msecond") == (2e6, "nsecond")
    assert normalize(2.0, "Gbyte/second") == (2e9, "byte/second")
    assert normalize(3.0, "cycle/nsecond") == (3e9, "cycle/second")
    assert normalize(5.0, "%") == (5.0, "%")
    assert normalize(6.0, "register/thread") == (6.0, "register/thread")
    assert normalize(1e308, "Tbyte") == (None, "byte")


def _replace_cell(text: str, row: int, column: str, value: str) -> str:
    lines = text.splitlines()
    header = lines[0].split('","')
    cells = lines[row].split('","')
    cells[header.index(column.strip('"'))] = value
    lines[row] = '","'.join(cells)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("n/a", None), ("", None), ("NaN", None), ("inf", None), ("1e999", None), ("7", 7.0)],
)
def test_unavailable_and_non_finite_values_become_none(value: str, expected: float | None) -> None:
    text = _replace_cell(AUTO, 2, SP, value)
    assert parse_csv(text)[0].metrics[SP] == expected


HOSTILE_CSV = {
    "empty": "",
    "header only": AUTO.splitlines()[0] + "\n",
    "no header": "\n".join(AUTO.splitlines()[2:]),
    "no kernel name column": AUTO.replace('"Kernel Name"', '"Kernel"'),
    "no requested metric": '"ID","Kernel Name","x"\n"","",""\n"0","k","1"\n',
    "duplicate column": AUTO.replace('"Stream"', '"Context"', 1),
    "ragged row": AUTO + '"2","4242"\n',
    "ragged unit row": AUTO.replace('"usecond",', "", 1),
    "non-numeric": _replace_cell(AUTO, 2, SP, "12abc"),
    "bad separators": _replace_cell(AUTO, 2, SP, "12,34"),
    "huge number": _replace_cell(AUTO, 2, SP, "9" * 5000),
    "huge exponent": _replace_cell(AUTO, 2, SP, "1e99999"),
    "empty kernel name": _replace_cell(AUTO, 2, "Kernel Name", ""),
    "control characters in name": _replace_cell(AUTO, 2, "Kernel Name", "k\x1b[2J"),
    "unterminated quote": AUTO + '"3,"4242\n',
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CSV))
def test_hostile_csv_is_a_value_error(case: str) -> None:
    with pytest.raises(ValueError):
        parse_csv(HOSTILE_CSV[case])


def test_csv_is_text_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError):
        parse_csv(b"bytes")  # type: ignore[arg-type]
    monkeypatch.setattr(ncu, "_MAX_TEXT", 100)
    with pytest.raises(ValueError, match="too large"):
        parse_csv(AUTO)


def test_ncu_log_lines_before_the_table_are_skipped() -> None:
    assert len(parse_csv("==PROF== Connected to process 1\n==WARNING== x\n" + AUTO)) == 2


def test_mutated_csv_never_raises_anything_but_value_error() -> None:
    rng = random.Random(7)
    alphabet = '",\n\r\x00é9.-ne/a '
    for _ in range(300):
        chars = list(AUTO)
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(len(chars))
            op = rng.random()
            if op < 0.4:
                chars[i] = rng.choice(alphabet)
            elif op < 0.7:
                del chars[i]
            else:
                chars.insert(i, rng.choice(alphabet))
        with contextlib.suppress(ValueError):
            summarize(parse_csv("".join(chars)))


GOOD_KERNEL = {"name": "k", "metrics": {SP: {"value": 1.0, "unit": "%"}}}


@pytest.mark.parametrize(
    "obj",
    [
        [],
        {"kernels": {}},
        {"kernels": [1]},
        {"kernels": [{"name": "k"}]},
        {"kernels": [{"name": 3, "metrics": {}}]},
        {"kernels": [{"name": "k", "metrics": {"bad name!": {"value": 1, "unit": ""}}}]},
        {"kernels": [{"name": "k", "metrics": {SP: 1.0}}]},
        {"kernels": [{"name": "k", "metrics": {SP: {"value": True, "unit": "%"}}}]},
        {"kernels": [{"name": "k", "metrics": {SP: {"value": "1", "unit": "%"}}}]},
        {"kernels": [{"name": "k", "metrics": {SP: {"value": 1, "unit": 5}}}]},
        "not json",
        "[" * 100_000,
    ],
)
def test_hostile_json_is_a_value_error(obj: object) -> None:
    with pytest.raises(ValueError):
        parse_report_json(obj)


def test_json_non_finite_and_huge_values_become_none() -> None:
    text = json.dumps(GOOD_KERNEL).replace("1.0", "NaN")
    assert parse_report_json('{"kernels": [' + text + "]}")[0].metrics[SP] is None
    huge = {"kernels": [{"name": "k", "metrics": {SP: {"value": 10**400, "unit": "%"}}}]}
    assert parse_report_json(huge)[0].metrics[SP] is None


def test_query_metrics_filter() -> None:
    query = '"Metric Name","Metric Type","Metric Unit","Metric Description"\n'
    query += '"dram__bytes_read","counter","byte","# of bytes read from DRAM"\n'
    query += '"sm__throughput","throughput","%","SM throughput"\n'
    known = parse_query_metrics(query)
    assert known == {"dram__bytes_read", "sm__throughput"}
    wanted = ["dram__bytes_read.sum", SP, "lts__t_sector_hit_rate.pct", "launch__grid_size"]
    wanted += ["gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed"]
    kept, missing = available_metrics(wanted, known)
    assert kept == ["dram__bytes_read.sum", SP, *wanted[3:]]
    assert missing == ["lts__t_sector_hit_rate.pct"]
    assert available_metrics(wanted, set()) == (wanted, [])


def _executable(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_find_ncu_and_its_report_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cuda = tmp_path / "cuda-12.8"
    wrapper = _executable(cuda / "bin" / "ncu")
    module = cuda / "nsight-compute-2025.1.1" / "extras" / "python"
    module.mkdir(parents=True)
    (module / "ncu_report.py").write_text("")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CUDA_HOME", str(cuda))
    assert find_ncu() == str(wrapper)
    assert find_ncu_report_module(str(wrapper)) == module
    monkeypatch.setenv("PATH", str(cuda / "bin") + os.pathsep + str(tmp_path / "empty"))
    monkeypatch.delenv("CUDA_HOME")
    assert find_ncu() == str(wrapper)


# -- reports captured on an H200 (tests/data/ncu/h200/COMMANDS.txt) ------------------------------

H200 = DATA / "h200"


def _base_values(profile: KernelProfile) -> dict[str, float | None]:
    return {m: normalize(v, profile.units.get(m, ""))[0] for m, v in profile.metrics.items()}


@pytest.mark.parametrize("name", ["cuda_matmul", "triton_matmul"])
def test_reports_captured_on_an_h200_parse_and_agree(name: str) -> None:
    """ncu 2025.3.1 on an H200, the candidate's NVTX range only: three launches of one kernel.
    The raw CSV page (auto units, two decimals) and the ncu_report dump (base units, full
    precision) of one report must tell the same story once both are in base units."""
    from_csv = parse_csv((H200 / f"{name}.raw.csv").read_text())
    from_json = parse_report_json(json.loads((H200 / f"{name}.json").read_text()))
    assert len(from_csv) == len(from_json) == 3
    assert all("matmul_kernel" in k.name for k in from_csv)
    assert all(len(k.metrics) == 39 and None not in k.metrics.values() for k in from_csv)
    for text_kernel, dumped in zip(from_csv, from_json, strict=True):
        a, b = _base_values(text_kernel), _base_values(dumped)
        for metric, value in b.items():
            assert value is not None and a[metric] is not None, metric
            assert a[metric] == pytest.approx(value, rel=0.01, abs=0.01), metric
    # Durations: "us" in the CSV, read as ns like the dump's; the kernel took microseconds.
    assert '"us"' in (H200 / f"{name}.raw.csv").read_text().splitlines()[1]
    assert from_csv[0].units["gpu__time_duration.sum"] == "nsecond"
    duration = from_csv[0].metrics["gpu__time_duration.sum"]
    assert duration is not None and duration > 1000
    summary = summarize(from_csv)
    light = summary["speed_of_light"]
    assert 0 < light["sm__throughput.avg.pct_of_peak_sustained_elapsed"] < 100
    assert set(summary) >= {"compute", "memory", "access", "occupancy"}
