"""The verifier: sandboxed children run candidates; the parent decides the verdict.

Owns the sandbox, the worker (the untrusted side), correctness references, timing, guards and
the Verdict. May import ``backends`` and ``bench_tasks``; never ``agents`` or ``runs``.
"""

from kernelwright.verifier.evaluate import EvalOptions, evaluate
from kernelwright.verifier.verdict import STATUSES, Finding, TimingResult, Verdict

__all__ = ["STATUSES", "EvalOptions", "Finding", "TimingResult", "Verdict", "evaluate"]
