#!/usr/bin/env bash
# Set up, then run every check CI runs: ruff, ruff format --check, mypy and pytest (with a real
# PostgreSQL server for the store tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
if [ -z "${KERNELWRIGHT_TEST_PG_URL:-}" ] && [ -f scripts/start_postgres.sh ]; then
  eval "$(bash scripts/start_postgres.sh)"
  export KERNELWRIGHT_TEST_PG_URL
fi
.venv/bin/pytest -q -ra "$@"
