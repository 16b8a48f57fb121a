"""The background jobs, their cadence, and the in-process scheduler of the embedded default.

Production runs these jobs on arq workers (`entrypoints.worker`); with no Redis the
collector runs the very same job functions itself, as asyncio tasks in the Litestar
lifespan. Every job is safe to run twice and concurrently: arq delivers at least once,
and two embedded processes may run the same schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from entrypoints.container import Application

log = logging.getLogger(__name__)

# DispatchAlerts claims this many per batch; one run drains at most this many batches,
# so a backlog cannot hold a worker slot for long (the next run continues).
DISPATCH_BATCH = 50
DISPATCH_MAX_BATCHES = 20
STOP_GRACE = timedelta(seconds=10)


async def dispatch_alerts(container: Application) -> int:
    """Send the pending alerts that are due; returns how many were handled."""
    dispatch = container.dispatch_alerts()
    handled = 0
    for _ in range(DISPATCH_MAX_BATCHES):
        report = await dispatch(DISPATCH_BATCH)
        done = report.sent + report.failed + report.skipped
        handled += done
        if done < DISPATCH_BATCH:
            break
    return handled


async def monitor_caps(container: Application) -> int:
    """The safety net: raise any threshold alert the ingest path missed."""
    raised: int = await container.monitor_caps()()
    return raised


async def forecast_caps(container: Application) -> int:
    """Raise a forecast alert for each cap whose current rate passes its limit in-window."""
    raised: int = await container.forecast_caps()()
    return raised


async def reconcile_counters(container: Application) -> int:
    """Rebuild the live counters from the events; returns how many were corrected."""
    drifts = await container.reconcile_counters()()
    return len(drifts)


async def sweep_reservations(container: Application) -> int:
    """Give back the holds of reservations that were never settled or released."""
    released: int = await container.sweep_reservations()()
    return released


async def maintain_partitions(container: Application) -> int:
    """Create the coming months' spend-event partitions ahead of time (PostgreSQL; the SQL
    adapter does nothing on SQLite). The memory store has no engine and no partitions."""
    if "engine" not in container.infra.providers:
        return 0
    from adapters.sql.database import ensure_partitions

    created = await ensure_partitions(container.infra.engine(), container.clock().now())
    return len(created)


async def fold_rollups(container: Application) -> int:
    """Fold the hourly rollups older than two hours into the daily, weekly and monthly ones
    (PostgreSQL keeps those behind a watermark; SQLite keeps them at ingest)."""
    if "engine" not in container.infra.providers:
        return 0
    from adapters.sql.rollup_folds import fold_rollups as fold

    return len(await fold(container.infra.engine()))


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: Callable[[Application], Awaitable[int]]
    every: timedelta
    at_startup: bool = False


JOBS: tuple[Job, ...] = (
    Job("dispatch_alerts", dispatch_alerts, timedelta(seconds=30)),
    Job("monitor_caps", monitor_caps, timedelta(minutes=5)),
    Job("forecast_caps", forecast_caps, timedelta(minutes=5)),
    Job("reconcile_counters", reconcile_counters, timedelta(minutes=10), at_startup=True),
    Job("sweep_reservations", sweep_reservations, timedelta(minutes=1)),
    Job("maintain_partitions", maintain_partitions, timedelta(days=1), at_startup=True),
    Job("fold_rollups", fold_rollups, timedelta(minutes=5), at_startup=True),
)


class InProcessScheduler:
    """Runs each job on its cadence as an asyncio task; one failing run is logged and the
    schedule goes on. `run_all()` runs one tick of every job, for tests and the CLI."""

    def __init__(self, container: Application, jobs: Sequence[Job] = JOBS) -> None:
        self._container = container
        self._jobs = tuple(jobs)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._loop(job), name=f"llmobserve-job-{job.name}")
            for job in self._jobs
        ]

    async def stop(self, grace: timedelta = STOP_GRACE) -> None:
        """Let a job that is running finish its run (for up to `grace`), then end every loop.

        A job cut short is safe: each one is written to be run again from the start."""
        self._stopping.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace.total_seconds())
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def run_once(self, name: str) -> int:
        job = next((job for job in self._jobs if job.name == name), None)
        if job is None:
            raise KeyError(f"no job named {name!r}")
        return await job.run(self._container)

    async def run_all(self) -> dict[str, int | Exception]:
        results: dict[str, int | Exception] = {}
        for job in self._jobs:
            try:
                results[job.name] = await job.run(self._container)
            except Exception as exc:  # one job failing must not hide the others' results
                log.exception("job %s failed", job.name)
                results[job.name] = exc
        return results

    async def _loop(self, job: Job) -> None:
        if not job.at_startup and await self._wait(job.every):
            return
        while True:
            await self._run_logged(job)
            if await self._wait(job.every):
                return

    async def _run_logged(self, job: Job) -> None:
        try:
            result = await job.run(self._container)
        except Exception:  # logged; the next tick tries again, as a cron would
            log.exception("job %s failed; next run in %s", job.name, job.every)
        else:
            if result:
                log.info("job %s: %d", job.name, result)

    async def _wait(self, delay: timedelta) -> bool:
        """Sleep `delay`, or less when stopping; True when the scheduler is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay.total_seconds())
        return self._stopping.is_set()


def scheduler_lifespan(
    container: Application,
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A Litestar lifespan hook: with no Redis, this process runs the jobs itself.

    With Redis configured the jobs belong to `llmobserve-server worker`, and running them
    here as well would only duplicate work.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if container.settings().uses_redis:
            yield
            return
        scheduler = InProcessScheduler(container)
        await scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()

    return lifespan
