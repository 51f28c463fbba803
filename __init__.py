"""kernelwright: LLM agents that write GPU kernels, and a verifier that proves them correct and fast.

The repository root is this package. Dependencies point one way:
``cli -> agents -> verifier -> backends -> bench_tasks``; ``runs`` is used by ``cli`` and
``agents`` only, and ``verifier`` never imports ``agents`` or ``runs``.
"""

__version__ = "0.1.0"
