"""Use cases on the in-memory adapters: assertions on the state the fakes keep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from application.errors import Forbidden, Invalid, NotFound
from application.manage_caps import CapDraft
from application.ports import AlertQuery
from application.reservations import CheckRequest
from domain.alerts import AlertKind, AlertStatus
from domain.attribution import Attribution
from domain.caps import CapScope, Enforcement
from domain.events import CallStatus, SpendEvent
from domain.money import Money
from domain.periods import Period
from domain.reports import Bucket, Dimension, SpendFilter
from domain.tenants import KeyKind
from domain.usage import Usage
from tests.support.clock import MutableClock
from tests.support.harness import Harness

_counter = iter(range(10**9))


def event(clock: MutableClock, tenant: str = "default", **kw: object) -> SpendEvent:
    fields: dict[str, object] = {
        "tenant_id": tenant,
        "event_id": f"ev-{next(_counter)}",
        "occurred_at": clock.now(),
        "provider": "openai",
        "model": "gpt-4o-mini",
        "usage": Usage(input_tokens=1_000_000, output_tokens=0),  # $0.15 at gpt-4o-mini prices
    }
    fields.update(kw)
    return SpendEvent(**fields)  # type: ignore[arg-type]


def month(clock: MutableClock) -> SpendFilter:
    return SpendFilter(clock.now() - timedelta(days=30), clock.now() + timedelta(days=1))


async def test_a_retried_batch_never_counts_twice(app: Harness, clock: MutableClock) -> None:
    batch = [event(clock), event(clock)]
    first = await app.record(app.principal(), batch)
    again = await app.record(app.principal(), batch)
    assert (len(first.stored), first.duplicates) == (2, 0)
    assert (len(again.stored), again.duplicates) == (0, 2)
    summary = await app.reports.summary(app.principal(), month(clock))
    assert summary.totals.calls == 2
    assert summary.totals.cost == Money.parse("0.30")


async def test_unknown_models_are_stored_unpriced_not_at_zero(
    app: Harness, clock: MutableClock
) -> None:
    result = await app.record(app.principal(), [event(clock, model="house-model-v9")])
    assert result.stored[0].cost is None
    totals = (await app.reports.summary(app.principal(), month(clock))).totals
    assert (totals.calls, totals.unpriced_calls, totals.cost) == (1, 1, Money(0))
    assert totals.input_tokens == 1_000_000


async def test_failed_calls_cost_nothing(app: Harness, clock: MutableClock) -> None:
    result = await app.record(app.principal(), [event(clock, status=CallStatus.ERROR)])
    assert result.stored[0].cost == Money(0)


async def test_breakdowns_and_series(app: Harness, clock: MutableClock) -> None:
    await app.record(
        app.principal(),
        [
            event(clock, customer_id="a", agent="planner/research"),
            event(clock, customer_id="a", model="gpt-4o"),  # $2.50
            event(clock, customer_id="b"),
        ],
    )
    summary = await app.reports.summary(app.principal(), month(clock))
    customers = {row.key: row.totals.cost for row in summary.breakdowns[Dimension.CUSTOMER]}
    assert customers == {"a": Money.parse("2.65"), "b": Money.parse("0.15")}
    assert summary.breakdowns[Dimension.CUSTOMER][0].key == "a"  # most expensive first
    agents = {row.key for row in summary.breakdowns[Dimension.AGENT]}
    assert agents == {"planner/research", None}
    series = await app.reports.timeseries(
        app.principal(), month(clock), Bucket.DAY, Dimension.MODEL
    )
    assert {(p.group, p.totals.calls) for p in series} == {("gpt-4o-mini", 2), ("gpt-4o", 1)}


async def test_tenants_never_see_each_other(app: Harness, clock: MutableClock) -> None:
    await app.record(app.principal("a"), [event(clock, tenant="a")])
    created = await app.caps.create(
        app.principal("a"), CapDraft("c", CapScope.GLOBAL, Period.DAILY, Money.usd(1))
    )
    assert (await app.reports.summary(app.principal("b"), month(clock))).totals.calls == 0
    with pytest.raises(NotFound):
        await app.caps.get(app.principal("b"), created.cap.id)
    with pytest.raises(NotFound):
        await app.caps.delete(app.principal("b"), created.cap.id)
    assert await app.caps.list(app.principal("b")) == []


async def test_an_ingest_key_cannot_manage_caps_or_read(app: Harness, clock: MutableClock) -> None:
    ingest = app.principal(kind=KeyKind.INGEST)
    with pytest.raises(Forbidden):
        await app.caps.create(ingest, CapDraft("c", CapScope.GLOBAL, Period.DAILY, Money.usd(1)))
    with pytest.raises(Forbidden):
        await app.reports.summary(ingest, month(clock))


async def test_cap_progress_counts_spend_made_before_the_cap_existed(
    app: Harness, clock: MutableClock
) -> None:
    await app.record(app.principal(), [event(clock), event(clock)])
    created = await app.caps.create(
        app.principal(),
        CapDraft("m", CapScope.MODEL, Period.MONTHLY, Money.usd(1), scope_value="gpt-4o-mini"),
    )
    assert created.status.spent == Money.parse("0.30")
    await app.record(app.principal(), [event(clock)])
    assert (await app.caps.get(app.principal(), created.cap.id)).status.spent == Money.parse("0.45")


async def test_block_cap_reserves_then_refuses(app: Harness, clock: MutableClock) -> None:
    cap = (
        await app.caps.create(
            app.principal(),
            CapDraft(
                "c",
                CapScope.CUSTOMER,
                Period.MONTHLY,
                Money.parse("0.10"),
                Enforcement.BLOCK,
                "cus_1",
            ),
        )
    ).cap
    call = Attribution("openai", "gpt-4o-mini", None, "cus_1")
    results = [
        await app.check(app.principal(), CheckRequest(call, estimated_cost=Money.parse("0.03")))
        for _ in range(4)
    ]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert results[3].blocking_cap is not None and results[3].blocking_cap.id == cap.id
    progress = await app.caps.get(app.principal(), cap.id)
    assert progress.status.reserved == Money.parse("0.09")
    # The first call fails: its hold is released and the fourth now fits.
    assert results[0].reservation is not None
    await app.finish.release(app.principal(), results[0].reservation.id)
    retry = await app.check(app.principal(), CheckRequest(call, estimated_cost=Money.parse("0.03")))
    assert retry.allowed
    # Another customer is not limited by this cap; an alert-only cap never blocks.
    other = await app.check(
        app.principal(),
        CheckRequest(
            Attribution("openai", "gpt-4o-mini", None, "cus_2"), estimated_cost=Money.usd(100)
        ),
    )
    assert other.allowed and other.reservation is None


async def test_an_event_settles_its_reservation(app: Harness, clock: MutableClock) -> None:
    cap = (
        await app.caps.create(
            app.principal(),
            CapDraft("g", CapScope.GLOBAL, Period.DAILY, Money.usd(1), Enforcement.BLOCK),
        )
    ).cap
    held = await app.check(
        app.principal(),
        CheckRequest(
            Attribution("openai", "gpt-4o-mini"), estimated_usage=Usage(input_tokens=2_000_000)
        ),
    )
    assert held.allowed and held.amount == Money.parse("0.30")
    assert held.reservation is not None
    await app.record(app.principal(), [event(clock, reservation_id=held.reservation.id)])
    status = (await app.caps.get(app.principal(), cap.id)).status
    assert (status.spent, status.reserved) == (Money.parse("0.15"), Money(0))


async def test_explicit_settlement_counts_once(app: Harness, clock: MutableClock) -> None:
    cap = (
        await app.caps.create(
            app.principal(),
            CapDraft("g", CapScope.GLOBAL, Period.DAILY, Money.usd(1), Enforcement.BLOCK),
        )
    ).cap
    held = await app.check(
        app.principal(), CheckRequest(Attribution("openai", "x"), estimated_cost=Money.parse("0.5"))
    )
    assert held.reservation is not None
    await app.finish.settle(app.principal(), held.reservation.id, Money.parse("0.2"))
    with pytest.raises(NotFound):
        await app.finish.settle(app.principal(), held.reservation.id, Money.parse("0.2"))
    status = (await app.caps.get(app.principal(), cap.id)).status
    assert (status.spent, status.reserved) == (Money.parse("0.2"), Money(0))


async def test_concurrent_reservations_never_overshoot(app: Harness, clock: MutableClock) -> None:
    await app.caps.create(
        app.principal(),
        CapDraft("g", CapScope.GLOBAL, Period.DAILY, Money.parse("5.00"), Enforcement.BLOCK),
    )
    call = CheckRequest(Attribution("openai", "gpt-4o"), estimated_cost=Money.parse("0.01"))
    results = await asyncio.gather(*(app.check(app.principal(), call) for _ in range(1000)))
    assert sum(r.allowed for r in results) == 500


async def test_expired_reservations_are_swept(app: Harness, clock: MutableClock) -> None:
    cap = (
        await app.caps.create(
            app.principal(),
            CapDraft("g", CapScope.GLOBAL, Period.DAILY, Money.usd(1), Enforcement.BLOCK),
        )
    ).cap
    await app.check(
        app.principal(),
        CheckRequest(Attribution("openai", "m"), estimated_cost=Money.parse("0.4"), ttl_seconds=60),
    )
    clock.advance(seconds=61)
    assert await app.sweep() == 1
    assert (await app.caps.get(app.principal(), cap.id)).status.reserved == Money(0)


async def test_invalid_drafts_name_the_field(app: Harness) -> None:
    with pytest.raises(Invalid) as caught:
        await app.caps.create(
            app.principal(), CapDraft("c", CapScope.AGENT, Period.DAILY, Money.usd(1))
        )
    assert caught.value.field == "scope_value"
    with pytest.raises(Invalid) as caught:
        await app.caps.create(
            app.principal(), CapDraft("c", CapScope.GLOBAL, Period.DAILY, Money(0))
        )
    assert caught.value.field == "limit"


async def test_one_alert_per_threshold_whatever_runs(app: Harness, clock: MutableClock) -> None:
    cap = (
        await app.caps.create(
            app.principal(),
            CapDraft(
                "g",
                CapScope.GLOBAL,
                Period.MONTHLY,
                Money.parse("0.40"),
                recipients=("ops@example.com",),
            ),
        )
    ).cap
    await app.record(app.principal(), [event(clock)])  # 37.5 %
    await app.record(app.principal(), [event(clock)])  # 75 % -> 50
    await app.monitor()
    await app.monitor()
    await app.record(app.principal(), [event(clock), event(clock)])  # 150 % -> 80, 100
    await app.monitor()
    alerts = await _alerts(app)
    assert sorted((a.threshold, a.kind) for a in alerts) == [
        (50, AlertKind.THRESHOLD),
        (80, AlertKind.THRESHOLD),
        (100, AlertKind.EXCEEDED),
    ]
    assert all(a.cap_id == cap.id for a in alerts)
    # A new month is a new window: thresholds alert again there.
    clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    await app.record(app.principal(), [event(clock), event(clock)])
    assert len(await _alerts(app)) == 4


async def test_the_monitor_raises_what_the_ingest_path_missed(clock: MutableClock) -> None:
    from adapters.memory.counters import InProcessCounters

    store_factory = MemoryUnitOfWorkFactory()
    app = Harness(store_factory, InProcessCounters(clock), clock)
    await app.caps.create(
        app.principal(), CapDraft("g", CapScope.GLOBAL, Period.MONTHLY, Money.parse("0.20"))
    )
    # Events written behind the ingest path's back (say, a crash after commit).
    async with store_factory("default") as uow:
        await uow.events.add_new(
            [
                event(clock).priced_with(
                    app.catalog.resolve("openai", "gpt-4o-mini", clock.now().date())
                )
            ]
        )
        await uow.commit()
    assert await _alerts(app) == []
    # The counter cache lags the truth until reconcile; the monitor then raises the alert.
    drifts = await app.reconcile()
    assert [d.true_nanos for d in drifts] == [150_000_000]
    assert await app.monitor() == 1
    assert [a.threshold for a in await _alerts(app)] == [50]


async def test_alerts_are_sent_once_and_retried_on_failure(
    app: Harness, clock: MutableClock
) -> None:
    await app.caps.create(
        app.principal(),
        CapDraft(
            "g",
            CapScope.GLOBAL,
            Period.MONTHLY,
            Money.parse("0.10"),
            thresholds=(100,),
            recipients=("ops@example.com",),
        ),
    )
    await app.record(app.principal(), [event(clock)])
    app.mailer.failures_left = 1
    first = await app.dispatch()
    assert (first.sent, first.failed) == (0, 1)
    [pending] = await _alerts(app)
    assert (pending.status, pending.attempts) == (AlertStatus.PENDING, 1)
    assert pending.last_error and "mail server down" in pending.last_error
    assert (await app.dispatch()).sent == 0  # not due yet: backoff
    clock.advance(minutes=5)
    assert (await app.dispatch()).sent == 1
    assert (await app.dispatch()).sent == 0
    assert len(app.mailer.sent) == 1 and app.mailer.sent[0].to == ("ops@example.com",)
    [sent] = await _alerts(app)
    assert sent.status is AlertStatus.SENT


async def test_api_keys_are_hashed_shown_once_and_revocable(app: Harness) -> None:
    new = await app.api_keys.issue("default", "ci", KeyKind.INGEST)
    assert new.secret.startswith("llmo_sk_") and len(new.secret) >= 8 + 43
    assert new.secret not in repr(new.key) and new.key.secret_hash != new.secret
    principal = await app.api_keys.authenticate(new.secret)
    assert principal is not None and principal.tenant_id == "default"
    await app.api_keys.revoke(app.principal(), new.key.id)
    assert await app.api_keys.authenticate(new.secret) is None
    assert await app.api_keys.authenticate("llmo_sk_" + "x" * 43) is None
    with pytest.raises(NotFound):
        await app.api_keys.revoke(app.principal("other"), new.key.id)


async def _alerts(app: Harness) -> list:  # type: ignore[type-arg]
    async with app.uow_factory("default") as uow:
        return await uow.alerts.list("default", AlertQuery())


async def test_an_unpriced_call_is_refused_by_an_exhausted_cap(
    app: Harness, clock: MutableClock
) -> None:
    await app.caps.create(
        app.principal(),
        CapDraft("g", CapScope.GLOBAL, Period.DAILY, Money.parse("0.15"), Enforcement.BLOCK),
    )
    unknown = CheckRequest(
        Attribution("openai", "house-model"), estimated_usage=Usage(input_tokens=10)
    )
    assert (await app.check(app.principal(), unknown)).allowed
    await app.record(app.principal(), [event(clock)])  # exactly the limit
    assert not (await app.check(app.principal(), unknown)).allowed


async def test_a_model_cap_covers_dated_snapshots_but_not_siblings(
    app: Harness, clock: MutableClock
) -> None:
    cap = (
        await app.caps.create(
            app.principal(),
            CapDraft("m", CapScope.MODEL, Period.MONTHLY, Money.usd(10), scope_value="gpt-4o-mini"),
        )
    ).cap
    await app.record(
        app.principal(),
        [
            event(clock, model="gpt-4o-mini-2024-07-18"),
            event(clock, model="openai/gpt-4o-mini"),
            event(clock, model="gpt-4o"),
        ],
    )
    assert (await app.caps.get(app.principal(), cap.id)).status.spent == Money.parse("0.30")


async def test_changing_a_caps_scope_recounts_its_window(app: Harness, clock: MutableClock) -> None:
    cap = (
        await app.caps.create(
            app.principal(),
            CapDraft("c", CapScope.CUSTOMER, Period.MONTHLY, Money.usd(10), scope_value="a"),
        )
    ).cap
    await app.record(
        app.principal(),
        [
            event(clock, customer_id="a"),
            event(clock, customer_id="b"),
            event(clock, customer_id="b"),
        ],
    )
    assert (await app.caps.get(app.principal(), cap.id)).status.spent == Money.parse("0.15")
    moved = await app.caps.update(app.principal(), cap.id, {"scope_value": "b"})
    assert moved.status.spent == Money.parse("0.30")


async def test_reconcile_never_erases_an_increment_that_lands_while_it_runs(
    app: Harness, clock: MutableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from application.cap_counters import counter_key

    cap = (
        await app.caps.create(
            app.principal(), CapDraft("g", CapScope.GLOBAL, Period.MONTHLY, Money.usd(10))
        )
    ).cap
    await app.record(app.principal(), [event(clock)])
    key = counter_key(cap, cap.window_at(clock.now()))
    await app.counter_store.overwrite(key, Money.parse("0.05"), 3600)  # drifted cache
    events = MemoryUnitOfWorkFactory.__call__

    def racing_factory(self: MemoryUnitOfWorkFactory, tenant_id: str | None = None):  # type: ignore[no-untyped-def]
        uow = events(self, tenant_id)
        truth = uow.events.spent_in

        async def spent_in_while_an_event_is_counted(*args: object) -> Money:
            result = await truth(*args)  # type: ignore[arg-type]
            await app.counter_store.add_spent({key: Money.parse("0.15")})
            return result

        uow.events.spent_in = spent_in_while_an_event_is_counted  # type: ignore[method-assign]
        return uow

    with monkeypatch.context() as patch:
        patch.setattr(MemoryUnitOfWorkFactory, "__call__", racing_factory)
        assert await app.reconcile() == []  # the cache moved: nothing overwritten
    reading = (await app.counter_store.read([key]))[key]
    assert reading is not None and reading.spent == Money.parse("0.20")
    [drift] = await app.reconcile()  # a quiet run then fixes the drift exactly
    assert (drift.cached_nanos, drift.true_nanos) == (200_000_000, 150_000_000)


async def test_the_cap_check_reads_a_short_lived_copy_of_the_caps(clock: MutableClock) -> None:
    from adapters.memory.counters import InProcessCounters
    from application.cap_rules_cache import CapRulesCache
    from application.manage_caps import CapProgressReader, ManageCaps
    from application.reservations import CheckAndReserve
    from domain.caps import Cap

    uow = MemoryUnitOfWorkFactory()
    base = Harness(uow, InProcessCounters(clock), clock)
    rules = CapRulesCache(uow, clock, timedelta(seconds=1))
    check = CheckAndReserve(uow, base.catalog, base.counters, base.ids, clock, rules=rules)
    caps = ManageCaps(uow, CapProgressReader(base.counters, clock), base.ids, clock, rules)
    ask = CheckRequest(Attribution("openai", "gpt-4o"), estimated_cost=Money.usd(2))
    assert (await check(base.principal(), ask)).allowed
    # A cap written by another process (straight into the store) is seen once the copy ages.
    async with uow("default") as tx:
        await tx.caps.add(
            Cap(
                "cap_x",
                "default",
                "x",
                CapScope.GLOBAL,
                Period.DAILY,
                Money.usd(1),
                Enforcement.BLOCK,
            )
        )
        await tx.commit()
    assert (await check(base.principal(), ask)).allowed
    clock.advance(seconds=1)
    assert not (await check(base.principal(), ask)).allowed
    # A change made through this process applies at once.
    await caps.delete(base.principal(), "cap_x")
    assert (await check(base.principal(), ask)).allowed
