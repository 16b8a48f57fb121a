#!/usr/bin/env bash
# Creates .venv and installs the collector (and, with --dev, the SDK and test tools).
# Sourced by start.sh and test.sh; safe to run again: it only adds what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "LLMObserve needs Python 3.11 or newer on PATH" >&2
  return 1
}

PYTHON="${LLMOBSERVE_PYTHON:-$(pick_python)}"
if ! command -v uv >/dev/null 2>&1; then
  "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
fi
UV="$(command -v uv || echo "$PYTHON -m uv")"

if [ ! -x .venv/bin/python ]; then
  $UV venv --quiet --python "$PYTHON" .venv
fi
if [ "${1:-}" = "--dev" ]; then
  $UV pip install --quiet --python .venv/bin/python -e '.[dev]' -e ./sdk
else
  $UV pip install --quiet --python .venv/bin/python -e . -e ./sdk
fi
