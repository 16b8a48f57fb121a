"""spent_in is the exact priced spend matching a cap inside a window, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.caps import CapScope
from domain.events import CallStatus
from domain.periods import Period, Window, window_of
from tests.contract import conftest
from tests.contract.builders import cap, event, new_tenant
from tests.contract.conftest import Backend

BACKENDS = [*conftest.BACKENDS, conftest.POSTGRES_FOLDED]


async def spent(backend: Backend, tenant: str, the_cap, window: Window) -> int:
    async with backend.uow(tenant) as uow:
        return (await uow.events.spent_in(tenant, the_cap, window)).nanos


async def store(backend: Backend, tenant: str, events: list) -> None:
    async with backend.uow(tenant) as uow:
        await uow.events.add_new(events)
        await uow.commit()


async def test_a_kolkata_month_counts_the_half_hours_at_both_edges(backend: Backend) -> None:
    """Asia/Kolkata is UTC+5:30: March starts at 18:30 UTC on the last day of February."""
    tenant = new_tenant()
    window = window_of(Period.MONTHLY, datetime(2026, 3, 10, tzinfo=UTC), "Asia/Kolkata")
    assert window.start == datetime(2026, 2, 28, 18, 30, tzinfo=UTC)
    second = timedelta(seconds=1)
    await store(
        backend,
        tenant,
        [
            event(tenant, "before", window.start - second, cost=1),
            event(tenant, "first", window.start, cost=10),
            event(tenant, "same-hour", window.start + timedelta(minutes=29), cost=100),
            event(tenant, "middle", datetime(2026, 3, 15, 12, tzinfo=UTC), cost=1_000),
            event(tenant, "last", window.end - second, cost=10_000),
            event(tenant, "after", window.end, cost=100_000),
            event(tenant, "unpriced", datetime(2026, 3, 15, 12, tzinfo=UTC), cost=None),
        ],
    )
    the_cap = cap(tenant, timezone="Asia/Kolkata")
    assert await spent(backend, tenant, the_cap, window) == 11_110


async def test_a_window_inside_one_hour_reads_raw_events(backend: Backend) -> None:
    tenant = new_tenant()
    await store(
        backend,
        tenant,
        [
            event(tenant, "a", datetime(2026, 3, 10, 9, 10, tzinfo=UTC), cost=1),
            event(tenant, "b", datetime(2026, 3, 10, 9, 20, tzinfo=UTC), cost=2),
            event(tenant, "c", datetime(2026, 3, 10, 9, 50, tzinfo=UTC), cost=4),
        ],
    )
    window = Window(
        datetime(2026, 3, 10, 9, 15, tzinfo=UTC), datetime(2026, 3, 10, 9, 45, tzinfo=UTC)
    )
    assert await spent(backend, tenant, cap(tenant), window) == 2


@pytest.mark.parametrize(
    ("scope", "value", "expected"),
    [
        (CapScope.GLOBAL, None, 1 + 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256),
        (CapScope.PROVIDER, "OPENAI", 1 + 2 + 32 + 64 + 128 + 256),
        (CapScope.MODEL, "gpt-4O", 1 + 32 + 128 + 256),
        (CapScope.MODEL, "gpt-4o-2024-08-06", 128),
        (CapScope.AGENT, "research", 2 + 4 + 8),
        (CapScope.AGENT, "planner/research", 2),
        (CapScope.AGENT, "plan", 0),
        (CapScope.CUSTOMER, "cus_1", 16),
        (CapScope.CUSTOMER, "CUS_1", 64),
    ],
)
async def test_scopes_match_as_the_domain_says(
    backend: Backend, scope: CapScope, value: str | None, expected: int
) -> None:
    tenant = new_tenant()
    at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    await store(
        backend,
        tenant,
        [
            event(tenant, "e1", at, cost=1, provider="openai", model="gpt-4o"),
            event(
                tenant,
                "e2",
                at,
                cost=2,
                provider="OpenAI",
                model="gpt-4o-mini",
                agent="planner/research",
            ),
            event(tenant, "e3", at, cost=4, provider="anthropic", model="claude", agent="research"),
            event(
                tenant, "e4", at, cost=8, provider="anthropic", model="claude", agent="/research/x/"
            ),
            event(
                tenant, "e5", at, cost=16, provider="google", model="gemini", customer_id="cus_1"
            ),
            event(tenant, "e6", at, cost=32, provider="openai", model="GPT-4o", agent="planner"),
            event(
                tenant,
                "e7",
                at,
                cost=64,
                provider="openai",
                model="o1",
                customer_id="CUS_1",
                agent="research-team",
            ),
            event(tenant, "e8", at, cost=128, provider="openai", model="gpt-4o-2024-08-06"),
            event(tenant, "e9", at, cost=256, provider="openai", model="openai/gpt-4o"),
            event(tenant, "err", at, cost=0, status=CallStatus.ERROR),
            event(tenant, "unpriced", at, cost=None, agent="research", customer_id="cus_1"),
        ],
    )
    the_cap = cap(tenant, scope=scope, scope_value=value)
    window = window_of(Period.DAILY, at)
    assert await spent(backend, tenant, the_cap, window) == expected


async def test_a_disabled_cap_matches_nothing(backend: Backend) -> None:
    tenant = new_tenant()
    at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    await store(backend, tenant, [event(tenant, "e1", at, cost=5)])
    window = window_of(Period.DAILY, at)
    assert await spent(backend, tenant, cap(tenant, enabled=False), window) == 0
    assert await spent(backend, tenant, cap(tenant), window) == 5


async def test_other_tenants_spend_never_counts(backend: Backend) -> None:
    tenant, other = new_tenant(), new_tenant()
    at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    await store(backend, tenant, [event(tenant, "e1", at, cost=5)])
    await store(backend, other, [event(other, "e1", at, cost=50)])
    assert await spent(backend, tenant, cap(tenant), window_of(Period.DAILY, at)) == 5


async def test_weekly_windows_in_zones_with_45_minute_offsets(backend: Backend) -> None:
    """Asia/Kathmandu is UTC+5:45: every edge falls mid-hour."""
    tenant = new_tenant()
    window = window_of(Period.WEEKLY, datetime(2026, 3, 11, tzinfo=UTC), "Asia/Kathmandu")
    events = [
        event(tenant, f"e{minute}", window.start + timedelta(minutes=minute), cost=minute + 1)
        for minute in range(-20, 20)
    ] + [
        event(tenant, f"z{minute}", window.end + timedelta(minutes=minute), cost=1_000)
        for minute in range(-3, 3)
    ]
    await store(backend, tenant, events)
    expected = sum(minute + 1 for minute in range(20)) + 3 * 1_000
    assert await spent(backend, tenant, cap(tenant, timezone="Asia/Kathmandu"), window) == expected
