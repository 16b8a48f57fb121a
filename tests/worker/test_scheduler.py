"""The in-process scheduler of the embedded default: the same jobs, no Redis."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from dependency_injector import providers

from application.ports import AlertQuery
from domain.alerts import AlertKind
from domain.events import SpendEvent
from domain.usage import Usage
from entrypoints.container import build_container
from entrypoints.scheduler import JOBS, InProcessScheduler, Job, scheduler_lifespan
from entrypoints.settings import Settings
from tests.support.clock import MutableClock
from tests.worker.support import (
    OWNER,
    cap_with_recipient,
    events_behind_the_ingest_path,
    memory_collector,
)

TICK = timedelta(milliseconds=20)


class Counting:
    def __init__(self, fail: bool = False) -> None:
        self.runs = 0
        self.fail = fail

    async def __call__(self, container: object) -> int:
        self.runs += 1
        if self.fail:
            raise RuntimeError("boom")
        return 1


async def test_one_tick_runs_every_job_and_a_second_tick_changes_nothing() -> None:
    collector = memory_collector()
    scheduler = InProcessScheduler(collector.container)
    await cap_with_recipient(collector)
    await events_behind_the_ingest_path(collector, 1)
    assert await scheduler.run_once("reconcile_counters") == 1
    first = await scheduler.run_all()
    assert set(first) == {job.name for job in JOBS}
    assert first["monitor_caps"] == 1
    assert first["dispatch_alerts"] == 0  # it runs first: nothing was due yet
    await scheduler.run_once("dispatch_alerts")
    assert len(collector.mailer.sent) == 1
    second = await scheduler.run_all()
    assert second["monitor_caps"] == 0 and second["reconcile_counters"] == 0
    assert len(collector.mailer.sent) == 1


async def test_jobs_repeat_on_their_cadence_and_stop_cleanly() -> None:
    startup, later, failing = Counting(), Counting(), Counting(fail=True)
    scheduler = InProcessScheduler(
        memory_collector().container,
        [
            Job("startup", startup, timedelta(hours=1), at_startup=True),
            Job("later", later, TICK),
            Job("failing", failing, TICK),
        ],
    )
    await scheduler.start()
    await asyncio.sleep(0)
    assert startup.runs == 1 and later.runs == 0  # only at_startup jobs run at once
    await asyncio.sleep(TICK.total_seconds() * 8)
    await scheduler.stop()
    assert not scheduler.running
    assert startup.runs == 1
    assert later.runs >= 3 and failing.runs >= 3  # a failing run does not end its schedule
    runs = later.runs
    await asyncio.sleep(TICK.total_seconds() * 3)
    assert later.runs == runs


async def test_stop_cuts_a_job_that_overruns_its_grace() -> None:
    started = asyncio.Event()

    async def stuck(container: object) -> int:
        started.set()
        await asyncio.sleep(3600)
        return 0

    scheduler = InProcessScheduler(
        memory_collector().container, [Job("stuck", stuck, TICK, at_startup=True)]
    )
    await scheduler.start()
    await started.wait()
    await asyncio.wait_for(scheduler.stop(grace=TICK), timeout=2)
    assert not scheduler.running


async def test_the_lifespan_runs_the_jobs_only_without_redis() -> None:
    collector = memory_collector()
    await cap_with_recipient(collector)
    await events_behind_the_ingest_path(collector, 1)
    async with scheduler_lifespan(collector.container)(None):
        for _ in range(100):  # reconcile runs at startup
            progress = await collector.container.manage_caps().get(
                OWNER, (await collector.container.manage_caps().list(OWNER))[0].cap.id
            )
            if progress.status.spent.nanos:
                break
            await asyncio.sleep(0.01)
    assert progress.status.spent.format() == "0.150000"

    with_redis = build_container(
        Settings(database_url="sqlite+aiosqlite:///:memory:", redis_url="redis://127.0.0.1:1/0")
    )
    async with scheduler_lifespan(with_redis)(None):
        pass  # nothing started, nothing dialled


async def test_the_forecast_job_warns_of_a_cap_the_current_rate_will_pass() -> None:
    collector = memory_collector()
    container = collector.container
    clock = MutableClock(datetime(2026, 3, 11, tzinfo=UTC))  # a third of March gone
    container.infra.clock.override(providers.Object(clock))
    await cap_with_recipient(collector, limit="1.00")
    spend = SpendEvent(
        tenant_id="default",
        event_id="forecast-1",
        occurred_at=clock.now(),
        provider="openai",
        model="gpt-4o-mini",
        usage=Usage(input_tokens=3_000_000),  # $0.45 in ten days: $1.39 by the 31st
    )
    await container.record_spend()(OWNER, [spend])
    scheduler = InProcessScheduler(container)
    assert await scheduler.run_once("forecast_caps") == 1
    assert await scheduler.run_once("forecast_caps") == 0
    async with container.infra.uow_factory()("default") as uow:
        alerts = await uow.alerts.list("default", AlertQuery())
    assert [a.kind for a in alerts if a.kind is AlertKind.FORECAST] == [AlertKind.FORECAST]
