#!/usr/bin/env bash
# Set up, then run every check CI runs: ruff, ruff format --check, mypy and pytest (with a real
# PostgreSQL server for the store tests, headless Chromium for the HTML report test and a Docker
# engine with a locally built image for the docker sandbox level).
set -euo pipefail
cd "$(dirname "$0")/.."
# The hip backend's compile-only tests need hipcc.
KERNELWRIGHT_WITH_HIP=1 bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# mypy must see the root as the package `kernelwright`, whatever this checkout's folder is called.
link=$(mktemp -d)
ln -s "$PWD" "$link/kernelwright"
(cd "$link" && "$OLDPWD/.venv/bin/mypy" --config-file kernelwright/pyproject.toml kernelwright)
rm -rf "$link"
if [ -z "${KERNELWRIGHT_TEST_PG_URL:-}" ] && [ -f scripts/start_postgres.sh ]; then
  eval "$(bash scripts/start_postgres.sh)"
  export KERNELWRIGHT_TEST_PG_URL
  # The throwaway server goes when the tests do, whatever way they end.
  trap 'eval "$KERNELWRIGHT_TEST_PG_STOP" || true' EXIT
fi
bash scripts/install_chromium.sh || echo "test: no Chromium; the browser test will be skipped" >&2
# The docker sandbox level is tested against a real engine and a locally built image.
bash scripts/start_docker.sh || echo "test: no Docker engine; the docker tests will be skipped" >&2
status=0
.venv/bin/pytest -q -ra "$@" || status=$?
# pytest's 5 means no test ran: CI must not pass on that.
exit $status
