"""Runs, candidates and evaluations.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    _create_runs()
    _create_candidates()
    _create_evaluations()


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("suite", sa.String(500), nullable=False),
        sa.Column("backend", sa.String(50), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("strategy", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        _timestamp("created"),
        _timestamp("finished", nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
    )


def _create_candidates() -> None:
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("task_id", sa.String(500), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("backend", sa.String(50), nullable=False),
        sa.Column(
            "parent_id",
            sa.Integer(),
            sa.ForeignKey("candidates.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("origin", sa.String(50), nullable=False),
        _timestamp("created"),
        sa.UniqueConstraint("run_id", "task_id", "source_hash", name="uq_candidate_source"),
    )
    op.create_index("ix_candidates_run_id", "candidates", ["run_id"])


def _create_evaluations() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "candidate_id",
            sa.Integer(),
            sa.ForeignKey("candidates.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("task_id", sa.String(500), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("status", sa.String(30), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("device", sa.String(200), nullable=True),
        sa.Column("verdict", sa.JSON(), nullable=True),
        sa.Column("speedup_eager", sa.Float(), nullable=True),
        sa.Column("speedup_compile", sa.Float(), nullable=True),
        sa.Column("candidate_ms", sa.Float(), nullable=True),
        sa.Column("eager_ms", sa.Float(), nullable=True),
        sa.Column("compile_ms", sa.Float(), nullable=True),
        sa.Column("environment", sa.JSON(), nullable=True),
        _timestamp("started"),
        _timestamp("finished", nullable=True),
    )
    op.create_index("ix_evaluations_run_id", "evaluations", ["run_id"])
    op.create_index("ix_evaluations_candidate_id", "evaluations", ["candidate_id"])


def downgrade() -> None:
    op.drop_table("evaluations")
    op.drop_table("candidates")
    op.drop_table("runs")
