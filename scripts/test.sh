#!/usr/bin/env bash
# Installs everything and runs the whole test suite: lint, types, layer contracts,
# unit, contract (memory, SQLite, PostgreSQL, Redis), API, SDK, BDD and browser tests.
# Needs PostgreSQL and Redis (LLMOBSERVE_TEST_DATABASE_URL, LLMOBSERVE_TEST_REDIS_URL;
# default: the local servers) and Chromium (LLMOBSERVE_CHROMIUM, default /usr/bin/chromium).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh" --dev
cd "$ROOT"

if [ ! -x "${LLMOBSERVE_CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium not found at ${LLMOBSERVE_CHROMIUM:-/usr/bin/chromium}: install it (apt-get install chromium)" >&2
    echo "or set LLMOBSERVE_CHROMIUM; the browser tests will fail without it." >&2
  fi
fi

.venv/bin/python -m tests.support.check_services

echo "== ruff"; .venv/bin/ruff check .
echo "== mypy (strict: domain, application)"; .venv/bin/mypy
echo "== import layers"; .venv/bin/lint-imports
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
