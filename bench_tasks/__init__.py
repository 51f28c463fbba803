"""Task format, loader, shipped suites and task linting.

Imports nothing else from kernelwright: every other layer builds on it.
"""

from kernelwright.bench_tasks.task import (
    CATEGORIES,
    Task,
    TaskError,
    Unloadable,
    apply_scale,
    list_suites,
    load_suite,
    load_task,
    resolve_task,
    scan_suite,
    suite_dir,
)

__all__ = [
    "CATEGORIES",
    "Task",
    "TaskError",
    "Unloadable",
    "apply_scale",
    "list_suites",
    "load_suite",
    "load_task",
    "resolve_task",
    "scan_suite",
    "suite_dir",
]
