"""`llmobserve-server worker` as a real process on PostgreSQL and Redis: it starts, runs the
start-up jobs (reconcile, partition upkeep), and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from adapters.sql.urls import with_user
from tests.concurrency.collectors import ROOT, base_env, cli, run_cli
from tests.support.services import (
    create_database,
    drop_database,
    require_postgres,
    require_redis,
    scratch_database_name,
    with_database,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

STARTUP_JOBS = ("cron:reconcile_counters", "cron:maintain_partitions", "cron:fold_rollups")


def wait_for(log: Path, texts: tuple[str, ...], process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if all(text in content for text in texts):
            return content
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"worker log lacks {texts}:\n{log.read_text(errors='replace')[-3000:]}")


def test_the_worker_runs_its_startup_jobs_and_stops_on_sigterm() -> None:
    admin_url = require_postgres()
    name = scratch_database_name("worker")
    owner_url = asyncio.run(create_database(admin_url, name))
    env = base_env(
        LLMOBSERVE_DATABASE_URL=with_user(owner_url, "llmobserve_app"),
        LLMOBSERVE_MIGRATION_DATABASE_URL=owner_url,
        # A database of its own: the worker's sweep walks all reservations of its database.
        LLMOBSERVE_REDIS_URL=with_database(require_redis(), "13"),
        LLMOBSERVE_LOG_LEVEL="info",
    )
    log = Path(tempfile.mkdtemp(prefix="llmo-worker-")) / "worker.log"
    try:
        run_cli(env, "migrate")
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*cli(), "worker"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            content = wait_for(log, tuple(f"{job} ●" for job in STARTUP_JOBS), process)
            assert "Traceback" not in content, content[-3000:]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log.read_text(errors="replace")[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    finally:
        asyncio.run(drop_database(admin_url, name))
