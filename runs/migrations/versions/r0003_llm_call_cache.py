"""What an LLM call needs to be answered again without being paid again: the request's key (a
hash of everything sent), its tag, what became of the reply, and the call it was copied from.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("llm_calls") as batch:
        batch.add_column(sa.Column("tag", sa.String(1000), nullable=True))
        batch.add_column(sa.Column("request_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(30), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cached_from", sa.Integer(), nullable=True))
    op.create_index("ix_llm_calls_request_key", "llm_calls", ["request_key"])


def downgrade() -> None:
    op.drop_index("ix_llm_calls_request_key", "llm_calls")
    with op.batch_alter_table("llm_calls") as batch:
        for column in ("cached_from", "attempts", "outcome", "request_key", "tag"):
            batch.drop_column(column)
