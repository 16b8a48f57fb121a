#!/usr/bin/env bash
# Installs everything and starts the collector on the embedded default
# (SQLite file ./llmobserve.db, in-process counters and scheduler, console mailer).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec .venv/bin/llmobserve-server serve "$@"
