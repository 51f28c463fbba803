"""The run store (SQLAlchemy models, Alembic migrations), leaderboard reports and regression checks.

Used by ``cli`` and ``agents`` only. May import ``verifier`` (for its dataclasses),
``backends`` and ``bench_tasks``; never the other way round.

- ``database``: where the store lives (``resolve_db_url``), opening it, migrations.
- ``models``: the tables (runs, candidates, evaluations, timing_samples, llm_calls).
- ``store``: ``Store``, the one writer's API, reads for reports, JSONL and source exports.
- ``leaderboard``: fast_p, geometric means, grouping; ``report`` and ``report_html`` render it.
- ``regress``: per-task comparison against a baseline, JUnit XML and Markdown output.
"""
