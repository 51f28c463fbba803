"""LLM providers, the Coder and Judge agents, prompts and search strategies.

May import ``verifier``, ``backends``, ``bench_tasks`` and ``runs``.
"""
