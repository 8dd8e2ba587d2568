#!/usr/bin/env bash
# The whole suite: lint, type check, pytest on SQLite and PostgreSQL, browser tests.
# PostgreSQL: uses $DRAGONNET_TEST_POSTGRES_URL, else starts a throwaway server from Debian's packages
# on loopback (scripts/pg-throwaway.sh). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

echo "== ruff"
$BIN/ruff check src tests scripts benchmarks
$BIN/ruff format --check src tests scripts benchmarks
echo "== mypy"
$BIN/mypy
echo "== import-linter (layers and independence: docs/architecture.md)"
$BIN/lint-imports --no-cache
echo "== bandit (medium and high findings)"
$BIN/bandit -c pyproject.toml -q -r src/dragonnet -ll

started_pg=""
if [ -z "${DRAGONNET_TEST_POSTGRES_URL:-}" ]; then
  if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    export PGPORT=${PGPORT:-55432}
    DRAGONNET_TEST_POSTGRES_URL=$(bash scripts/pg-throwaway.sh start "/tmp/dragonnet-test-pg-$PGPORT")
    export DRAGONNET_TEST_POSTGRES_URL
    started_pg="/tmp/dragonnet-test-pg-$PGPORT"
  elif [ -n "${CI:-}" ]; then
    echo "CI needs PostgreSQL: apt-get install postgresql" >&2
    exit 1
  else
    echo "note: PostgreSQL not installed; its tests are skipped (apt-get install postgresql)"
  fi
fi
cleanup() { [ -n "$started_pg" ] && bash scripts/pg-throwaway.sh stop "$started_pg"; true; }
trap cleanup EXIT

echo "== pytest (PostgreSQL: ${DRAGONNET_TEST_POSTGRES_URL:-none})"
workers=${PYTEST_WORKERS:-2}
# worksteal: a worker that runs out of tests takes queued ones from the other, so a long module near the end
# of one queue does not leave the other worker idle. --durations: the CI log names the slowest tests.
$BIN/pytest -n "$workers" --dist worksteal -p no:cacheprovider --durations=25 "$@"
