"""The arq worker (`llmobserve-server worker`): the background jobs, on Redis.

Every job of `entrypoints.scheduler.JOBS` is both a cron job (its cadence, once per tick
across all workers: arq's unique cron ids) and a function that can be enqueued on demand
under its own name. arq delivers at least once; each job is safe to run twice.
The worker shares one Redis client with the counters: the container's.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, timedelta
from typing import Any, cast

from arq import Retry, cron
from arq.cron import CronJob
from arq.worker import Function, create_worker, func

from application.dispatch_alerts import retry_delay
from entrypoints.container import (
    Application,
    build_container,
    close_infrastructure,
    open_infrastructure,
)
from entrypoints.scheduler import JOBS, Job
from entrypoints.settings import Settings

log = logging.getLogger(__name__)

QUEUE_NAME = "llmobserve:queue"
DISPATCH_MAX_TRIES = 5
INTERRUPTED_MAX_TRIES = 3
CRON_PREFIX = "cron:"

Context = dict[str, Any]


async def on_startup(ctx: Context) -> None:
    """Open the container's connections. `main()` puts its container in the context; run
    by `arq entrypoints.worker.WorkerSettings` instead, one is built from the environment."""
    container: Application | None = ctx.get("container")
    if container is None:
        container = build_container(Settings.from_env())
        ctx["container"] = container
    await open_infrastructure(container)
    log.info("worker started: jobs %s", ", ".join(job.name for job in JOBS))


async def on_shutdown(ctx: Context) -> None:
    container: Application | None = ctx.get("container")
    if container is not None:
        await close_infrastructure(container)


def _arq_coroutine(job: Job) -> Any:
    async def run(ctx: Context) -> int:
        return await job.run(ctx["container"])

    run.__name__ = run.__qualname__ = job.name
    return run


async def dispatch_alerts(ctx: Context) -> int:
    """Send due alerts. When the run itself fails (the database unreachable, say) arq runs
    it again after a growing delay; a failed email is retried by the alert row's own
    backoff (next_attempt_at), whichever run comes next."""
    job = next(job for job in JOBS if job.name == "dispatch_alerts")
    try:
        return await job.run(ctx["container"])
    except Exception as exc:
        delay = retry_delay(ctx.get("job_try", 1))
        log.warning(
            "dispatch_alerts failed (try %s), again in %s: %s", ctx.get("job_try", 1), delay, exc
        )
        raise Retry(defer=delay) from exc


def _coroutine_for(job: Job) -> Any:
    return dispatch_alerts if job.name == "dispatch_alerts" else _arq_coroutine(job)


def _max_tries(job: Job) -> int:
    # More than one try for every job: arq re-queues a job cut short by a worker's shutdown.
    return DISPATCH_MAX_TRIES if job.name == "dispatch_alerts" else INTERRUPTED_MAX_TRIES


def cron_times(every: timedelta) -> dict[str, Any]:
    """arq cron fields for a cadence that divides a minute, an hour or a day evenly."""
    seconds = int(every.total_seconds())
    if seconds == 60:
        return {"second": 0}
    if seconds < 60 and 60 % seconds == 0:
        return {"second": set(range(0, 60, seconds))}
    if seconds < 3600 and seconds % 60 == 0 and 60 % (seconds // 60) == 0:
        return {"minute": set(range(0, 60, seconds // 60)), "second": 0}
    if seconds < 86400 and seconds % 3600 == 0 and 24 % (seconds // 3600) == 0:
        return {"hour": set(range(0, 24, seconds // 3600)), "minute": 0, "second": 0}
    if seconds == 86400:
        return {"hour": 0, "minute": 0, "second": 0}
    raise ValueError(f"no cron schedule for a cadence of {every}")


def functions() -> list[Function]:
    return [func(_coroutine_for(job), name=job.name, max_tries=_max_tries(job)) for job in JOBS]


def cron_jobs() -> list[CronJob]:
    return [
        cron(
            _coroutine_for(job),
            name=f"{CRON_PREFIX}{job.name}",
            run_at_startup=job.at_startup,
            max_tries=_max_tries(job),
            **cron_times(job.every),
        )
        for job in JOBS
    ]


class WorkerSettings:
    """For arq (`create_worker(WorkerSettings, ...)`, or the `arq` command with a local Redis)."""

    functions = functions()
    cron_jobs = cron_jobs()
    on_startup = on_startup
    on_shutdown = on_shutdown
    queue_name = QUEUE_NAME
    timezone = UTC  # cron times are UTC whatever the host's zone
    max_jobs = 10
    job_timeout = 300
    health_check_interval = 60


async def run_worker(container: Application, redis: Any = None, **overrides: Any) -> int:
    """Run the worker on the container's Redis client (or `redis`) until a signal, or in
    burst mode (`burst=True`) until the queue is empty; returns how many jobs failed.
    `overrides` go to arq's Worker (tests pass queue_name, handle_signals, ...)."""
    settings: dict[str, Any] = {
        "redis_pool": redis if redis is not None else container.infra.redis(),
        "ctx": {"container": container},
        # Fresh CronJob objects: arq keeps each one's next run on it.
        "cron_jobs": cron_jobs(),
        **overrides,
    }
    # arq reads the class's __dict__; its Protocol type does not fit plain functions there.
    worker = create_worker(cast(Any, WorkerSettings), **settings)
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        log.info("worker stopping")
    finally:
        await worker.close()
    return worker.jobs_failed


def main() -> int:
    """`llmobserve-server worker`."""
    settings = Settings.from_env()
    if not settings.uses_redis:
        print(
            "llmobserve-server worker needs Redis: set LLMOBSERVE_REDIS_URL. Without Redis, "
            "`llmobserve-server serve` runs the same jobs in process.",
            file=sys.stderr,
        )
        return 2
    container = build_container(settings)
    if "redis" not in container.infra.providers:
        print(
            "the worker needs the PostgreSQL and Redis adapters; this configuration has "
            f"none ({settings.database_url})",
            file=sys.stderr,
        )
        return 2
    asyncio.run(run_worker(container))
    return 0
