"""rocprofv3 and JAX profiler output: the command line, the parsers and the output finders, on
small files each test writes itself in the tools' documented layouts, hostile ones included.
Nothing here needs a GPU, a profiler or the network."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from kernelwright.backends import jax_trace, rocprof
from kernelwright.backends.jax_trace import find_trace, parse_trace
from kernelwright.backends.ncu import DURATION, KernelProfile
from kernelwright.backends.rocprof import (
    COUNTER_NAME,
    COUNTER_UNITS,
    COUNTERS,
    find_outputs,
    find_rocprof,
    parse_counter_collection,
    parse_kernel_trace,
    rocprof_command,
)

ROCPROF_DOC = (
    "https://rocm.docs.amd.com/projects/rocprofiler-sdk/en/latest/how-to/using-rocprofv3.html"
)

# Documented layout, not captured on a GPU: the counter_collection.csv of ROCm 6.4 and later,
# https://rocm.docs.amd.com/projects/rocprofiler-sdk/en/latest/how-to/using-rocprofv3.html
# (one row per dispatch and counter; Agent_Id is written as "Agent N"; times in ns).
CC_HEADER = (
    '"Correlation_Id","Dispatch_Id","Agent_Id","Queue_Id","Process_Id","Thread_Id","Grid_Size",'
    '"Kernel_Id","Kernel_Name","Workgroup_Size","LDS_Block_Size","Scratch_Size","VGPR_Count",'
    '"Accum_VGPR_Count","SGPR_Count","Counter_Name","Counter_Value","Start_Timestamp",'
    '"End_Timestamp"'
)
ADD = '"void add_kernel<float>(float*, float const*, float const*, int)"'
SUB = '"sub_kernel(float*, float const*, int)"'


def cc_row(dispatch: int, kernel: str, counter: str, value: str, start: str, end: str) -> str:
    return (
        f'{dispatch},{dispatch},"Agent 4",1,4242,4242,1048576,17,{kernel},256,1024,0,8,0,16,'
        f'"{counter}",{value},{start},{end}'
    )


def counter_csv(*rows: str, header: str = CC_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


COUNTER_CSV = counter_csv(
    # Dispatch 2 first: profiles come back in dispatch order whatever the file's order.
    cc_row(2, SUB, "SQ_WAVES", "16384.000000", "1000100000", "1000150500"),
    cc_row(2, SUB, "FETCH_SIZE", "8192.000000", "1000100000", "1000150500"),
    cc_row(1, ADD, "SQ_WAVES", "4096.000000", "1000000000", "1000012800"),
    cc_row(1, ADD, "FETCH_SIZE", "4096.500000", "1000000000", "1000012800"),
    cc_row(1, ADD, "OccupancyPercent", "37.500000", "1000000000", "1000012800"),
)

# Documented layout, not captured on a GPU: the kernel_trace.csv of ROCm 6.4 and later,
# https://rocm.docs.amd.com/projects/rocprofiler-sdk/en/latest/how-to/using-rocprofv3.html
KT_HEADER = (
    '"Kind","Agent_Id","Queue_Id","Stream_Id","Thread_Id","Dispatch_Id","Kernel_Id","Kernel_Name",'
    '"Correlation_Id","Start_Timestamp","End_Timestamp","LDS_Block_Size","Scratch_Size",'
    '"VGPR_Count","Accum_VGPR_Count","SGPR_Count","Workgroup_Size_X","Workgroup_Size_Y",'
    '"Workgroup_Size_Z","Grid_Size_X","Grid_Size_Y","Grid_Size_Z"'
)


def kt_row(dispatch: int, kernel: str, start: str, end: str, kind: str = "KERNEL_DISPATCH") -> str:
    return (
        f'"{kind}","Agent 4",1,0,834304,{dispatch},10,{kernel},{dispatch},{start},{end},'
        "512,0,12,4,16,64,2,1,1024,1024,1"
    )


def trace_csv(*rows: str, header: str = KT_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


KERNEL_TRACE = trace_csv(
    kt_row(1, ADD, "1550151853029637", "1550151853042437"),
    kt_row(4, SUB, "1550151853064037", "1550151853075237"),
)


# --- rocprofv3: counters and the command line --------------------------------------------------


def test_counters_are_a_short_single_pass_set() -> None:
    assert 8 <= len(COUNTERS) <= 16 and len(set(COUNTERS)) == len(COUNTERS)
    assert all(COUNTER_NAME.fullmatch(c) and c in COUNTER_UNITS for c in COUNTERS)
    # Per-block limits on MI200/MI300 (SQ 8, TCC 4, GRBM 2): one pass, or rocprofv3 fails.
    assert sum(c.startswith("SQ_") for c in COUNTERS) <= 8
    assert sum(c.startswith("TCC_") for c in COUNTERS) <= 4
    assert sum(c.startswith("GRBM_") for c in COUNTERS) <= 2
    assert "SQ_WAVES" in COUNTERS and "OccupancyPercent" in COUNTERS


def test_rocprof_command_traces_and_counts_into_the_folder(tmp_path: Path) -> None:
    target = ["python", "-m", "worker", "--task", "t"]
    argv = rocprof_command("/opt/rocm/bin/rocprofv3", tmp_path, ["SQ_WAVES", "GRBM_COUNT"], target)
    assert argv == [
        "/opt/rocm/bin/rocprofv3",
        "--kernel-trace",
        "--pmc",
        "SQ_WAVES",
        "GRBM_COUNT",
        "--output-format",
        "csv",
        "-d",
        str(tmp_path),
        "-o",
        "kw",
        "--",
        *target,
    ]
    bare = rocprof_command("rocprofv3", "out", [], ["app"], name="run1")
    assert bare == ["rocprofv3", "--kernel-trace", "--output-format", "csv"] + [
        "-d",
        "out",
        "-o",
        "run1",
        "--",
        "app",
    ]
    assert rocprof_command("rocprofv3", "out", COUNTERS, ["app"])[3 : 3 + len(COUNTERS)] == list(
        COUNTERS
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"out_dir": "/tmp/%pid%"},  # rocprofv3 would expand the key
        {"out_dir": "$ENV{HOME}"},
        {"counters": ["--kernel-trace"]},
        {"counters": ["SQ_WAVES", "SQ_WAVES"]},
        {"counters": "SQ_WAVES"},
        {"counters": ["SQ WAVES"]},
        {"target_argv": []},
        {"target_argv": ["app", 3]},
        {"executable": ""},
        {"name": "%hostname%"},
        {"name": "../up"},
    ],
)
def test_rocprof_command_refuses(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "executable": "rocprofv3",
        "out_dir": "out",
        "counters": ["SQ_WAVES"],
        "target_argv": ["app"],
    }
    args.update(kwargs)
    with pytest.raises(ValueError):
        rocprof_command(**args)


def test_find_rocprof_looks_on_path_then_rocm_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = tmp_path / "bin" / "rocprofv3"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(exe.parent))
    assert find_rocprof() == str(exe)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("ROCM_PATH", str(tmp_path))
    assert find_rocprof() == str(exe)


# --- rocprofv3: counter collection -------------------------------------------------------------


def test_counter_collection_one_profile_per_dispatch() -> None:
    profiles = parse_counter_collection(COUNTER_CSV)
    assert [p.name for p in profiles] == [
        "void add_kernel<float>(float*, float const*, float const*, int)",
        "sub_kernel(float*, float const*, int)",
    ]
    add, sub = profiles
    assert isinstance(add, KernelProfile)
    assert add.metrics[DURATION] == 12800.0 and add.units[DURATION] == "nsecond"
    assert sub.metrics[DURATION] == 50500.0
    assert add.metrics["SQ_WAVES"] == 4096.0 and add.units["SQ_WAVES"] == "wave"
    # FETCH_SIZE is reported in kilobytes: base unit is bytes.
    assert add.metrics["FETCH_SIZE"] == 4096.5 * 1024 and add.units["FETCH_SIZE"] == "byte"
    assert sub.metrics["FETCH_SIZE"] == 8192.0 * 1024
    assert add.metrics["OccupancyPercent"] == 37.5 and add.units["OccupancyPercent"] == "%"
    assert "OccupancyPercent" not in sub.metrics
    assert add.metrics["Grid_Size"] == 1048576.0 and add.units["Grid_Size"] == "work-item"
    assert add.metrics["Workgroup_Size"] == 256.0
    assert add.metrics["LDS_Block_Size"] == 1024.0 and add.units["LDS_Block_Size"] == "byte"
    assert add.metrics["VGPR_Count"] == 8.0 and add.units["SGPR_Count"] == "register"


def test_counter_collection_of_2024_has_no_times() -> None:
    # Documented layout, not captured on a GPU: the counter_collection.csv of 2024 releases
    # (integer Agent_Id, no Accum_VGPR_Count, no timestamps), as in rocprofiler-sdk's docs data:
    # https://github.com/ROCm/rocprofiler-sdk/blob/8ab1ed78d8c2afb25fedddb7684aff08d1233c5c/source/docs/data/counter_collection.csv
    header = (
        '"Correlation_Id","Dispatch_Id","Agent_Id","Queue_Id","Process_Id","Thread_Id",'
        '"Grid_Size","Kernel_Id","Kernel_Name","Workgroup_Size","LDS_Block_Size","Scratch_Size",'
        '"VGPR_Count","SGPR_Count","Counter_Name","Counter_Value"'
    )
    text = f'{header}\n1,1,1,1,19396,19396,1048576,16,{ADD},64,0,0,8,16,"SQ_WAVES",16384\n'
    (profile,) = parse_counter_collection(text)
    assert DURATION not in profile.metrics
    assert profile.metrics["SQ_WAVES"] == 16384.0 and "Accum_VGPR_Count" not in profile.metrics


def test_counter_collection_derived_nan_is_not_measured() -> None:
    # A derived counter that divides by zero prints as nan (iostream): not a measurement.
    text = counter_csv(
        cc_row(1, ADD, "OccupancyPercent", "-nan", "10", "20"),
        cc_row(1, ADD, "SQ_WAVES", "inf", "10", "20"),
    )
    (profile,) = parse_counter_collection(text)
    assert profile.metrics["OccupancyPercent"] is None and profile.metrics["SQ_WAVES"] is None
    assert profile.metrics[DURATION] == 10.0


def test_counter_collection_accepts_scientific_values_and_blank_lines() -> None:
    text = counter_csv(cc_row(1, ADD, "TCC_HIT_sum", "1.5e+06", "10", "20"), "", "")
    (profile,) = parse_counter_collection(text)
    assert profile.metrics["TCC_HIT_sum"] == 1.5e6 and profile.units["TCC_HIT_sum"] == "request"


OK_ROW = cc_row(1, ADD, "SQ_WAVES", "1", "10", "20")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (KERNEL_TRACE, "lacks Counter_Name"),  # a kernel trace is not a counter collection
        (counter_csv(OK_ROW, header=CC_HEADER.replace(',"Counter_Value"', "")), "lacks"),
        (counter_csv(OK_ROW, header=CC_HEADER.replace("Kernel_Name", "Kernel Name")), "column"),
        (counter_csv(OK_ROW, header=CC_HEADER.replace("Queue_Id", "Dispatch_Id")), "twice"),
        (counter_csv(OK_ROW, header=CC_HEADER.replace('"Start_Timestamp",', "")), "cells"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "lots", "10", "20")), "not a number"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "0x10", "10", "20")), "not a number"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "1" * 80, "10", "20")), "not a number"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "1", "nan", "20")), "integer"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "1", "10", "inf")), "integer"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "1", "-10", "20")), "integer"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "1", "1.5", "20")), "integer"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "1", "9" * 21, "20")), "integer"),
        (counter_csv(cc_row(1, ADD, "SQ_WAVES", "1", "30", "20")), "before it starts"),
        (counter_csv(cc_row(1, ADD, "SQ WAVES", "1", "10", "20")), "counter name"),
        (counter_csv(OK_ROW, OK_ROW), "twice"),
        (counter_csv(OK_ROW, cc_row(1, SUB, "GRBM_COUNT", "1", "10", "20")), "disagrees"),
        (counter_csv(OK_ROW, cc_row(1, ADD, "GRBM_COUNT", "1", "10", "21")), "disagrees"),
        (counter_csv(cc_row(1, '""', "SQ_WAVES", "1", "10", "20")), "empty kernel name"),
        (counter_csv(cc_row(1, '"k\x1b[2J"', "SQ_WAVES", "1", "10", "20")), "control"),
        (counter_csv(cc_row(1, f'"{"k" * 5000}"', "SQ_WAVES", "1", "10", "20")), "overlong"),
        (counter_csv(OK_ROW + ",extra"), "cells"),
        (counter_csv(OK_ROW.replace(ADD, '"unterminated')), "CSV"),
        (counter_csv(OK_ROW.replace("SQ_WAVES", "SQ\x00WAVES")), "CSV|counter name"),
    ],
)
def test_counter_collection_refuses(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_counter_collection(text)


def test_counter_collection_refuses_non_text() -> None:
    with pytest.raises(ValueError, match="text"):
        parse_counter_collection(COUNTER_CSV.encode())  # type: ignore[arg-type]


def test_rocprof_parsers_refuse_huge_inputs() -> None:
    with pytest.raises(ValueError, match="too large"):
        parse_counter_collection(CC_HEADER + "\n" + " " * (64 * 1024 * 1024))
    with pytest.raises(ValueError, match="too large"):
        parse_kernel_trace(KT_HEADER + "\n" + " " * (64 * 1024 * 1024))
    row = cc_row(1, ADD, "SQ_WAVES", "1", "10", "20")
    with pytest.raises(ValueError, match="rows"):
        parse_counter_collection(counter_csv(*([row] * 200_001)))


# --- rocprofv3: kernel trace -------------------------------------------------------------------


def test_kernel_trace_one_profile_per_dispatch() -> None:
    add, sub = parse_kernel_trace(KERNEL_TRACE)
    assert add.name.startswith("void add_kernel<float>") and sub.name.startswith("sub_kernel")
    assert add.metrics[DURATION] == 12800.0 and add.units[DURATION] == "nsecond"
    assert sub.metrics[DURATION] == 11200.0
    assert add.metrics["Grid_Size"] == 1024 * 1024 and add.units["Grid_Size"] == "work-item"
    assert add.metrics["Grid_Size_X"] == 1024.0 and add.metrics["Grid_Size_Z"] == 1.0
    assert add.metrics["Workgroup_Size"] == 128.0
    assert add.metrics["VGPR_Count"] == 12.0 and add.metrics["Accum_VGPR_Count"] == 4.0
    assert add.metrics["SGPR_Count"] == 16.0 and add.units["VGPR_Count"] == "register"
    assert add.metrics["LDS_Block_Size"] == 512.0 and add.units["Scratch_Size"] == "byte"


def test_kernel_trace_of_2024() -> None:
    # Documented layout, not captured on a GPU: the kernel_trace.csv of 2024 releases (segment
    # sizes, no register counts), as in rocprofiler-sdk's docs data:
    # https://github.com/ROCm/rocprofiler-sdk/blob/8ab1ed78d8c2afb25fedddb7684aff08d1233c5c/source/docs/data/kernel_trace.csv
    header = (
        '"Kind","Agent_Id","Queue_Id","Thread_Id","Dispatch_Id","Kernel_Id","Kernel_Name",'
        '"Correlation_Id","Start_Timestamp","End_Timestamp","Private_Segment_Size",'
        '"Group_Segment_Size","Workgroup_Size_X","Workgroup_Size_Y","Workgroup_Size_Z",'
        '"Grid_Size_X","Grid_Size_Y","Grid_Size_Z"'
    )
    row = f'"KERNEL_DISPATCH",1,1,69,1,16,{ADD},1451,8819330200067564,8819330200116308,0,2048,64,1,1,1024,1024,1'
    (profile,) = parse_kernel_trace(f"{header}\n{row}\n")
    assert profile.metrics[DURATION] == 48744.0
    assert profile.metrics["Group_Segment_Size"] == 2048.0 and "VGPR_Count" not in profile.metrics


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (COUNTER_CSV, "another kind of file"),
        (trace_csv(header=KT_HEADER.replace('"End_Timestamp",', "")), "lacks End_Timestamp"),
        (trace_csv(kt_row(1, ADD, "20", "10")), "before it starts"),
        (trace_csv(kt_row(1, ADD, "NaN", "10")), "integer"),
        (trace_csv(kt_row(1, ADD, "1e3", "2e3")), "integer"),
        (trace_csv(kt_row(1, ADD, "10", "20", kind="MEMORY_COPY")), "KERNEL_DISPATCH"),
        (trace_csv(kt_row(1, ADD, "10", "20"), kt_row(1, SUB, "30", "40")), "twice"),
        (trace_csv(kt_row(1, ADD, "10", "20").replace(",512,", ",-512,")), "integer"),
        (trace_csv(kt_row(1, ADD, "10", "20").replace(",512,", ",lots,")), "integer"),
        (trace_csv(kt_row(1, ADD, "10", "20")[:-2]), "cells"),
    ],
)
def test_kernel_trace_refuses(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_kernel_trace(text)


# --- rocprofv3: finding its output -------------------------------------------------------------


def test_find_outputs_searches_host_pid_and_pass_folders(tmp_path: Path) -> None:
    # The nesting rocprofv3 documents for -d: DIR/%hostname%/%pid%_<kind>.csv, and pmc_N/ for
    # counter passes (ROCPROF_DOC, "Output directory" and "Kernel counter collection output").
    host = tmp_path / "node01"
    host.mkdir()
    (host / "4242_kernel_trace.csv").write_text(KERNEL_TRACE)
    (host / "4242_agent_info.csv").write_text("ignored")
    (tmp_path / "pmc_1" / "node01").mkdir(parents=True)
    (tmp_path / "pmc_1" / "node01" / "4242_counter_collection.csv").write_text(COUNTER_CSV)
    found = find_outputs(tmp_path)
    assert found == {
        "kernel_trace": host / "4242_kernel_trace.csv",
        "counter_collection": tmp_path / "pmc_1" / "node01" / "4242_counter_collection.csv",
    }
    assert len(parse_kernel_trace(found["kernel_trace"].read_text())) == 2
    assert find_outputs(tmp_path / "absent") == {}
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_outputs(empty) == {}


def test_find_outputs_refuses_links_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret_kernel_trace.csv").write_text(KERNEL_TRACE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "kw_kernel_trace.csv").symlink_to(outside / "secret_kernel_trace.csv")
    with pytest.raises(ValueError, match="symbolic link"):
        find_outputs(out)
    (out / "kw_kernel_trace.csv").unlink()
    (out / "host").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="symbolic link"):
        find_outputs(out)
    (out / "host").unlink()
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="symbolic link"):
        find_outputs(tmp_path / "link")


def test_find_outputs_refuses_odd_trees(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "kw_kernel_trace.csv")  # reading it would hang
    with pytest.raises(ValueError, match="plain file"):
        find_outputs(fifo)
    two = tmp_path / "two"
    (two / "a").mkdir(parents=True)
    (two / "b").mkdir()
    (two / "a" / "1_counter_collection.csv").write_text(COUNTER_CSV)
    (two / "b" / "2_counter_collection.csv").write_text(COUNTER_CSV)
    with pytest.raises(ValueError, match="two counter_collection"):
        find_outputs(two)
    deep = tmp_path / "deep"
    (deep / "1" / "2" / "3" / "4" / "5" / "6" / "7").mkdir(parents=True)
    with pytest.raises(ValueError, match="deeper"):
        find_outputs(deep)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="not a folder"):
        find_outputs(tmp_path / "file")


# --- JAX profiler traces -----------------------------------------------------------------------

# Documented layout, not captured on a GPU: Chrome's Trace Event Format as JAX's profiler writes
# it (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU, with
# https://docs.jax.dev/en/latest/profiling.html): process_name/thread_name metadata events,
# complete events with ts and dur in microseconds, a trailing {}.
HOST, GPU, TPU = 701, 1, 2
STREAM, OPS, MODULES, PYTHON = 14, 2, 1, 99


def meta(pid: int, name: str, tid: int | None = None) -> dict:
    event = {"ph": "M", "pid": pid, "name": "process_name" if tid is None else "thread_name"}
    if tid is not None:
        event["tid"] = tid
    event["args"] = {"name": name}
    return event


def span(pid: int, tid: int, name: str, ts: float, dur: float) -> dict:
    return {"ph": "X", "pid": pid, "tid": tid, "ts": ts, "dur": dur, "name": name}


def gpu_events() -> list[dict]:
    return [
        meta(HOST, "/host:CPU"),
        meta(HOST, "python", PYTHON),
        meta(GPU, "/device:GPU:0"),
        meta(GPU, "Stream #14(Kernel)", STREAM),
        meta(GPU, "XLA Ops", OPS),
        meta(GPU, "XLA Modules", MODULES),
        span(HOST, PYTHON, "matmul_kernel", 0.0, 500.0),  # host: not device time
        span(GPU, MODULES, "jit_f(42)", 10.0, 9.0),
        span(GPU, OPS, "matmul_kernel", 10.0, 1.5),  # derived from the stream's kernel
        span(GPU, STREAM, "matmul_kernel", 10.0, 1.5),
        span(GPU, STREAM, "loop_add_fusion", 12.0, 0.25),
        span(GPU, STREAM, "matmul_kernel", 13.0, 2.5),
        {"ph": "i", "pid": GPU, "tid": STREAM, "ts": 14.0, "name": "instant", "s": "t"},
        {},
    ]


def trace_bytes(events: list, gz: bool = True, wrap: bool = True) -> bytes:
    body = {"displayTimeUnit": "ns", "metadata": {}, "traceEvents": events} if wrap else events
    text = json.dumps(body).encode()
    return gzip.compress(text) if gz else text


def test_parse_trace_sums_device_kernels_per_name() -> None:
    profiles = parse_trace(trace_bytes(gpu_events()))
    assert [p.name for p in profiles] == ["matmul_kernel", "loop_add_fusion"]
    matmul, fusion = profiles
    assert matmul.metrics[DURATION] == pytest.approx(4000.0)  # (1.5 + 2.5) us, XLA Ops not added
    assert matmul.metrics[jax_trace.LAUNCHES] == 2.0 and matmul.units[DURATION] == "nsecond"
    assert fusion.metrics[DURATION] == pytest.approx(250.0)
    assert fusion.metrics[jax_trace.LAUNCHES] == 1.0
    # Plain JSON, a bare list and text give the same.
    for data in (
        trace_bytes(gpu_events(), gz=False),
        trace_bytes(gpu_events(), wrap=False),
        trace_bytes(gpu_events(), gz=False).decode(),
    ):
        assert [(p.name, p.metrics) for p in parse_trace(data)] == [
            (p.name, p.metrics) for p in profiles
        ]


def test_parse_trace_name_filter_and_no_device() -> None:
    kept = parse_trace(trace_bytes(gpu_events()), name_filter=lambda n: "matmul" in n)
    assert [p.name for p in kept] == ["matmul_kernel"]
    host_only = [e for e in gpu_events() if e.get("pid") != GPU]
    assert parse_trace(trace_bytes(host_only)) == []


def test_parse_trace_tpu_reads_the_xla_ops_line() -> None:
    events = [
        meta(TPU, "/device:TPU:0"),
        meta(TPU, "Steps", 3),
        meta(TPU, "XLA Modules", MODULES),
        meta(TPU, "XLA Ops", OPS),
        span(TPU, 3, "0", 0.0, 100.0),
        span(TPU, MODULES, "jit_step(7)", 0.0, 90.0),
        span(TPU, OPS, "my_pallas_kernel", 1.0, 40.0),
        span(TPU, OPS, "copy.3", 41.0, 2.0),
        span(TPU, OPS, "my_pallas_kernel", 50.0, 40.0),
    ]
    kernel, copy = parse_trace(trace_bytes(events))
    assert kernel.name == "my_pallas_kernel" and kernel.metrics[DURATION] == 80000.0
    assert kernel.metrics[jax_trace.LAUNCHES] == 2.0 and copy.metrics[DURATION] == 2000.0


def test_parse_trace_device_without_named_lines_skips_derived_ones() -> None:
    events = [
        meta(GPU, "/device:GPU:0"),
        meta(GPU, "Steps", 3),
        span(GPU, 3, "step", 0.0, 10.0),
        span(GPU, 5, "kernel", 1.0, 2.0),
    ]
    (profile,) = parse_trace(trace_bytes(events))
    assert profile.name == "kernel" and profile.metrics[DURATION] == 2000.0


def _with(event: dict) -> bytes:
    return trace_bytes([*gpu_events(), event])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not JSON"),
        (b"<html>not a trace</html>", "not JSON"),
        (b"\x1f\x8b\x08\x00garbage", "not gzip"),
        (gzip.compress(b'{"traceEvents": []}')[:-6], "not gzip"),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"traceEvents": [{"ph": "X", "dur": NaN}]}', "not JSON|not a number"),
        (b'{"traceEvents": [{"ph": "X", "dur": Infinity}]}', "not JSON|not a number"),
        (b'{"traceEvents": {"ph": "X"}}', "traceEvents"),
        (b'{"events": []}', "traceEvents"),
        (b'"just a string"', "traceEvents"),
        (b'{"traceEvents": [1, 2]}', "not an object"),
        (b'{"traceEvents": [' + b"1" * 5000 + b"]}", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (_with(span(GPU, STREAM, "k", 1.0, -0.5)), "negative"),
        (_with(span(GPU, STREAM, "k", 1.0, 1e300)), "out of range"),
        (_with({**span(GPU, STREAM, "k", 1.0, 1.0), "dur": "5"}), "microseconds"),
        (_with(span(GPU, STREAM, "k", 1.0, True)), "microseconds"),
        (_with({"ph": "X", "pid": GPU, "tid": STREAM, "ts": 1.0, "name": "k"}), "microseconds"),
        (_with(span(GPU, STREAM, "", 1.0, 1.0)), "empty name"),
        (_with(span(GPU, STREAM, "k\x1b]0;pwned\x07", 1.0, 1.0)), "control"),
        (_with(span(GPU, STREAM, "k" * 5000, 1.0, 1.0)), "characters"),
        (_with(span(GPU, STREAM, ["k"], 1.0, 1.0)), "name"),  # type: ignore[arg-type]
        (_with({**span(GPU, STREAM, "k", 1.0, 1.0), "tid": "14"}), "integer"),
        (_with({**span(GPU, STREAM, "k", 1.0, 1.0), "pid": [GPU]}), "integer"),
        (_with({**span(GPU, STREAM, "k", 1.0, 1.0), "pid": True}), "integer"),
        (_with(meta(GPU, "/device:GPU:1")), "named twice"),
        (_with({"ph": "M", "pid": GPU, "name": "process_name"}), "args"),
        (_with({"ph": "M", "pid": 3, "name": "process_name", "args": {"name": 7}}), "name"),
    ],
)
def test_parse_trace_refuses(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_trace(data)


def test_parse_trace_refuses_huge_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="larger than"):
        parse_trace(b" " * (64 * 1024 * 1024 + 1))
    with pytest.raises(ValueError, match="more than"):
        parse_trace(b"[" + b"{}," * 500_000 + b"{}]")
    # A gzip bomb: decompression stops at the cap (lowered here to keep the test fast).
    monkeypatch.setattr(jax_trace, "_MAX_JSON", 1024)
    with pytest.raises(ValueError, match="decompresses"):
        parse_trace(gzip.compress(b"[" + b" " * 4096 + b"]"))


def test_parse_trace_refuses_non_bytes() -> None:
    with pytest.raises(ValueError, match="bytes"):
        parse_trace(42)  # type: ignore[arg-type]


# --- JAX profiler: finding the trace -----------------------------------------------------------


def _run(root: Path, run: str, *files: str) -> Path:
    # The layout jax.profiler.trace(root, create_perfetto_trace=True) documents:
    # root/plugins/profile/<run>/<host>.trace.json.gz and perfetto_trace.json.gz.
    folder = root / "plugins" / "profile" / run
    folder.mkdir(parents=True, exist_ok=True)
    for name in files:
        (folder / name).write_bytes(trace_bytes(gpu_events()))
    return folder


def test_find_trace_takes_the_latest_run(tmp_path: Path) -> None:
    assert find_trace(tmp_path) is None
    assert find_trace(tmp_path / "absent") is None
    old = _run(tmp_path, "2025_01_01_00_00_00", "vm.trace.json.gz", "perfetto_trace.json.gz")
    assert find_trace(tmp_path) == old / "perfetto_trace.json.gz"
    new = _run(tmp_path, "2025_01_01_00_00_09", "vm.trace.json.gz", "vm.xplane.pb")
    found = find_trace(tmp_path)
    assert found == new / "vm.trace.json.gz"
    assert [p.name for p in parse_trace(found.read_bytes())] == ["matmul_kernel", "loop_add_fusion"]
    _run(tmp_path, "2025_01_01_00_00_10", "vm.xplane.pb")
    assert find_trace(tmp_path) is None


def test_find_trace_refuses_links_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "perfetto_trace.json.gz").write_bytes(trace_bytes(gpu_events()))
    out = tmp_path / "out"
    run = _run(out, "2025_01_01_00_00_00")
    (run / "perfetto_trace.json.gz").symlink_to(outside / "perfetto_trace.json.gz")
    with pytest.raises(ValueError, match="symbolic link"):
        find_trace(out)
    (run / "perfetto_trace.json.gz").unlink()
    (out / "plugins" / "profile" / "2025_01_01_00_00_01").symlink_to(outside)
    with pytest.raises(ValueError, match="symbolic link"):
        find_trace(out)
    linked = tmp_path / "linked"
    (linked / "plugins").mkdir(parents=True)
    (linked / "plugins" / "profile").symlink_to(outside)
    with pytest.raises(ValueError, match="symbolic link"):
        find_trace(linked)


def test_find_trace_refuses_odd_runs(tmp_path: Path) -> None:
    run = _run(tmp_path / "a", "2025_01_01_00_00_00", "h1.trace.json.gz", "h2.trace.json.gz")
    with pytest.raises(ValueError, match="host traces"):
        find_trace(tmp_path / "a")
    (run / "h2.trace.json.gz").unlink()
    assert find_trace(tmp_path / "a") == run / "h1.trace.json.gz"
    fifo_run = _run(tmp_path / "b", "2025_01_01_00_00_00")
    os.mkfifo(fifo_run / "perfetto_trace.json.gz")
    with pytest.raises(ValueError, match="plain file"):
        find_trace(tmp_path / "b")
    (tmp_path / "c" / "plugins").mkdir(parents=True)
    (tmp_path / "c" / "plugins" / "profile").write_text("")
    with pytest.raises(ValueError, match="not a folder"):
        find_trace(tmp_path / "c")
    assert stat.S_ISFIFO(os.lstat(fifo_run / "perfetto_trace.json.gz").st_mode)


def test_rocprof_doc_url_is_the_one_cited() -> None:
    assert rocprof.__doc__ is not None and ROCPROF_DOC in rocprof.__doc__
