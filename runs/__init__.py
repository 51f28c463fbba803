"""The run store (SQLAlchemy models, Alembic migrations), leaderboard reports and regression checks.

Used by ``cli`` and ``agents`` only. May import ``verifier`` (for its dataclasses),
``backends`` and ``bench_tasks``; never the other way round.
"""
