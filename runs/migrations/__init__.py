"""Alembic migrations of the run store, applied by ``Store`` when it opens a database."""
