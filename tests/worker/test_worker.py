"""The arq worker on the real Redis: its schedule, its jobs, their retries, and running
every job twice (arq delivers at least once) without a second alert or email."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from arq import Retry
from arq.cron import next_cron
from dependency_injector import providers

from adapters.redis.connection import close_redis, make_redis
from application.ports import AlertQuery
from domain.alerts import Alert
from entrypoints import worker
from entrypoints.scheduler import JOBS
from tests.support.services import require_redis
from tests.worker.support import (
    OWNER,
    Collector,
    cap_with_recipient,
    events_behind_the_ingest_path,
    memory_collector,
)

pytestmark = [
    pytest.mark.redis,
    # arq closes its pool with redis-py's deprecated close(); nothing of ours to fix.
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


@pytest.fixture
def queue() -> str:
    return f"llmo-test-queue-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    collector = memory_collector()
    yield collector
    collector.container.infra.mailer.reset_override()


async def burst(collector: Collector, queue: str, *jobs: str, crons: bool = False) -> int:
    """Enqueue `jobs`, run a worker until the queue is empty; returns failed jobs."""
    redis = make_redis(require_redis())
    for name in jobs:
        await redis.enqueue_job(name, _queue_name=queue)
    overrides = {} if crons else {"cron_jobs": []}
    # The worker closes the client it was given when it stops.
    return await worker.run_worker(
        collector.container,
        redis,
        burst=True,
        handle_signals=False,
        queue_name=queue,
        keep_result=0,
        poll_delay=0.05,
        **overrides,
    )


async def alerts(collector: Collector) -> list[Alert]:
    return await collector.container.alert_history().list(OWNER, AlertQuery())


def test_every_job_is_a_function_and_a_cron_job() -> None:
    names = [job.name for job in JOBS]
    assert [f.name for f in worker.WorkerSettings.functions] == names
    assert [c.name for c in worker.WorkerSettings.cron_jobs] == [f"cron:{n}" for n in names]
    assert {c.name for c in worker.WorkerSettings.cron_jobs if c.run_at_startup} == {
        "cron:reconcile_counters",
        "cron:maintain_partitions",
        "cron:fold_rollups",
    }


@pytest.mark.parametrize(
    ("name", "cadence"),
    [
        ("dispatch_alerts", timedelta(seconds=30)),
        ("monitor_caps", timedelta(minutes=5)),
        ("forecast_caps", timedelta(minutes=5)),
        ("reconcile_counters", timedelta(minutes=10)),
        ("sweep_reservations", timedelta(minutes=1)),
        ("maintain_partitions", timedelta(days=1)),
        ("fold_rollups", timedelta(minutes=5)),
    ],
)
def test_cron_cadence(name: str, cadence: timedelta) -> None:
    [job] = [c for c in worker.cron_jobs() if c.name == f"cron:{name}"]
    fields = {
        "month": job.month,
        "day": job.day,
        "weekday": job.weekday,
        "hour": job.hour,
        "minute": job.minute,
        "second": job.second,
        "microsecond": job.microsecond,
    }
    runs = [next_cron(datetime(2026, 3, 14, 23, 58, 1, tzinfo=UTC), **fields)]
    for _ in range(4):
        runs.append(next_cron(runs[-1], **fields))
    assert {later - earlier for earlier, later in itertools.pairwise(runs)} == {cadence}


def test_a_cadence_cron_cannot_express_is_refused() -> None:
    with pytest.raises(ValueError, match="no cron schedule"):
        worker.cron_times(timedelta(minutes=7))


async def test_jobs_run_on_the_worker_and_twice_is_harmless(
    collector: Collector, queue: str
) -> None:
    await cap_with_recipient(collector)
    await events_behind_the_ingest_path(collector, 1)  # $0.15 of $0.20: the 50% threshold
    assert await burst(collector, queue, "reconcile_counters") == 0
    assert await burst(collector, queue, "monitor_caps") == 0
    assert [a.threshold for a in await alerts(collector)] == [50]
    assert await burst(collector, queue, "dispatch_alerts") == 0
    assert [email.to for email in collector.mailer.sent] == [("ops@example.com",)]
    # Delivered again (and all at once): no second alert, no second email.
    every = [job.name for job in JOBS]
    assert await burst(collector, queue, *every, *every) == 0
    assert len(await alerts(collector)) == 1
    assert len(collector.mailer.sent) == 1


async def test_startup_runs_reconcile_and_partition_upkeep(
    collector: Collector, queue: str
) -> None:
    cap = await cap_with_recipient(collector, limit="10.00")
    await events_behind_the_ingest_path(collector, 2)
    assert await burst(collector, queue, crons=True) == 0
    progress = await collector.container.manage_caps().get(OWNER, cap.id)
    assert progress.status.spent.format() == "0.300000"


class UnreachableStore:
    def __call__(self, tenant_id: str | None = None) -> object:
        raise ConnectionError("database unreachable")


@pytest.mark.parametrize(("job_try", "seconds"), [(1, 30), (2, 60), (3, 120)])
async def test_a_failing_alert_run_is_retried_with_backoff(job_try: int, seconds: int) -> None:
    collector = memory_collector()
    collector.container.infra.uow_factory.override(providers.Object(UnreachableStore()))
    with pytest.raises(Retry) as raised:
        await worker.dispatch_alerts({"container": collector.container, "job_try": job_try})
    assert raised.value.defer_score == seconds * 1000


async def test_startup_and_shutdown_build_open_and_close_the_container(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLMOBSERVE_DATABASE_URL", "memory://")
    monkeypatch.delenv("LLMOBSERVE_REDIS_URL", raising=False)
    ctx: dict[str, object] = {}
    await worker.on_startup(ctx)
    assert ctx["container"] is not None
    await worker.on_shutdown(ctx)


def test_main_without_redis_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMOBSERVE_DATABASE_URL", "memory://")
    monkeypatch.delenv("LLMOBSERVE_REDIS_URL", raising=False)
    assert worker.main() == 2
    assert "LLMOBSERVE_REDIS_URL" in capsys.readouterr().err


async def test_the_worker_shares_the_counters_redis_client() -> None:
    client = make_redis(require_redis())
    try:
        # One client type serves both: arq's queue commands and the counters' scripts.
        assert hasattr(client, "enqueue_job") and hasattr(client, "register_script")
    finally:
        await close_redis(client)
