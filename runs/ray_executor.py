"""Evaluations on a Ray cluster (``--executor ray``): the same verifier, run on the cluster's nodes.

The driver (``bench`` or ``run``) keeps everything else: it plans, writes the run store (still its
only writer, so a resume works as it does locally), and, for ``run``, makes the LLM calls, so that
keys never leave it. Each evaluation is one Ray task that calls ``verifier.evaluate`` on a node:
the sandboxed children and every check run there unchanged, at ``bwrap`` level unless the user
chose another (``auto`` never falls back to the process level on a node). A GPU backend's
evaluation asks Ray for one GPU, so each GPU of each node runs one evaluation at a time, and
builds its candidate there (a build on another node would fill another node's cache, and a node
without the GPU or its compiler would decide the verdict); a CPU backend's evaluation asks for one
CPU. Tasks are never retried by Ray: an evaluation whose node is lost becomes an ``infra_error``
verdict, which a resume evaluates again.

Every node needs kernelwright and the backend's packages installed; a task file that is not at
the same path with the same text on a node is written into a scratch folder there (a sidecar of
an imported suite does not travel: such suites should be on a shared file system).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from kernelwright.backends import get_backend
from kernelwright.bench_tasks import Task
from kernelwright.verifier import EvalOptions, Verdict

EXECUTORS = ("local", "ray")


class RayUnavailable(RuntimeError):
    """Ray is not installed or the cluster cannot be reached; the message is one line."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailable(
            "--executor ray needs Ray: pip install -e '.[ray]' (or pip install 'ray>=2.40')"
        ) from None
    return ray


def _gpu_backend(backend: str) -> bool:
    return get_backend(backend).device().startswith("cuda")


def _scratch() -> Path:
    """This user's private scratch folder on this node (made once per worker process)."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = Path(tempfile.mkdtemp(prefix="kernelwright-ray-"))  # mode 0700
    return _SCRATCH


_SCRATCH: Path | None = None


def _task_on_this_node(task: Task) -> Task:
    """``task`` with a path that holds its text on this node (written to scratch if not)."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if task.path.read_text() == task.source:
            return task
    digest = hashlib.sha256(task.source.encode()).hexdigest()[:16]
    folder = _scratch() / digest
    folder.mkdir(exist_ok=True)
    path = folder / task.path.name
    path.write_text(task.source)
    return replace(task, path=path)


def _cache_dir(wanted: Path) -> Path:
    """The driver's cache folder where this node can use it, else a private one here."""
    try:
        wanted.mkdir(parents=True, exist_ok=True)
        if os.access(wanted, os.W_OK | os.X_OK):
            return wanted
    except OSError:
        pass
    return _scratch() / "cache"


def evaluate_on_node(task: Task, source: str, backend: str, options: EvalOptions) -> Verdict:
    """The body of one Ray task: the verifier, run on the node Ray picked. On a GPU backend
    Ray has set CUDA_VISIBLE_DEVICES to the one GPU it gave this task; the verifier, its
    health probe and its children all use that one."""
    import ray

    from kernelwright.verifier import evaluate

    node_options = replace(
        options, cpus=None, threads=None, device_index=None, cache_dir=_cache_dir(options.cache_dir)
    )
    verdict = evaluate(_task_on_this_node(task), source, backend, node_options)
    verdict.extra["ray_node"] = ray.get_runtime_context().get_node_id()
    return verdict


def lost_verdict(task: Task, backend: str, exc: BaseException) -> Verdict:
    """An ``infra_error`` verdict for an evaluation that Ray lost (its node or worker died)."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    verdict = Verdict(task=task.id, backend=backend, device="", status="infra_error")
    verdict.log = (
        f"the Ray task running this evaluation failed ({type(exc).__name__}: {first}); "
        "a resume evaluates it again"
    )
    verdict.extra["category"] = task.category
    return verdict


class RayEvaluator:
    """An ``evaluate`` that runs each evaluation as a Ray task; one per driver."""

    def __init__(self, address: str | None, backend: str) -> None:
        ray = _import_ray()
        self._ray = ray
        self._started = False
        handler = signal.getsignal(signal.SIGTERM)
        try:
            if not ray.is_initialized():
                ray.init(
                    address=address or "local",
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
                self._started = True
        except Exception as exc:  # ConnectionError, ValueError, RuntimeError, ...
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            where = address or "a new local Ray instance"
            raise RayUnavailable(f"cannot start or reach Ray at {where}: {first}") from None
        finally:
            # ray.init installs a SIGTERM handler of its own; the command's stores the run as
            # interrupted, as it does without Ray.
            signal.signal(signal.SIGTERM, handler)
        self.backend = backend
        self.gpu = _gpu_backend(backend)
        self._remote = ray.remote(evaluate_on_node)
        self._lock = threading.Lock()
        self._in_flight: set[Any] = set()

    def slots(self) -> tuple[int, int]:
        """(evaluations, builds) the cluster runs at once: one evaluation per GPU (or per CPU
        on a CPU backend); on a GPU backend, builds on the cluster's CPUs."""
        resources = self._ray.cluster_resources()
        cpus = int(resources.get("CPU", 0))
        if self.gpu:
            gpus = int(resources.get("GPU", 0))
            if gpus < 1:
                raise RayUnavailable(f"the Ray cluster has no GPU for backend {self.backend}")
            # No separate build stage: its build cache would be another node's, and a node
            # without the GPU or its compiler would decide the verdict.
            return gpus, 0
        if cpus < 1:
            raise RayUnavailable("the Ray cluster has no CPU to evaluate on")
        return cpus, 0

    def __call__(self, task: Task, source: str, backend: str, options: EvalOptions) -> Verdict:
        if options.sandbox == "auto":
            # Each node would resolve ``auto`` by itself, and one without bwrap would run the
            # candidate at the process level unannounced: on a cluster, auto means bwrap, and
            # a node that lacks it reports an infrastructure error instead.
            options = replace(options, sandbox="bwrap")
        on_gpu = self.gpu and not options.compile_only
        ref = self._remote.options(
            num_cpus=0 if on_gpu else 1, num_gpus=1 if on_gpu else 0, max_retries=0
        ).remote(task, source, backend, options)
        with self._lock:
            self._in_flight.add(ref)
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayError as exc:
            if isinstance(exc, self._ray.exceptions.TaskCancelledError):
                raise
            return lost_verdict(task, backend, exc)
        finally:
            with self._lock:
                self._in_flight.discard(ref)

    def cancel(self) -> None:
        """Stop every evaluation still running on the cluster (Ctrl-C of the driver)."""
        with self._lock:
            refs = list(self._in_flight)
        for ref in refs:
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=True)

    def close(self) -> None:
        """Disconnect from (or stop) the Ray this evaluator started; one it found is left."""
        if self._started:
            with contextlib.suppress(Exception):
                self._ray.shutdown()
