"""Alerts: exactly once per dedupe key, leased to one dispatcher at a time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from application.ports import AlertQuery
from domain.alerts import AlertKind, AlertStatus
from tests.contract.builders import T0, alert, new_tenant
from tests.contract.conftest import Backend

LEASE = timedelta(minutes=2)


async def test_an_alert_round_trips_and_is_inserted_once(backend: Backend) -> None:
    tenant = new_tenant()
    first = alert(tenant, "alrt_1")
    async with backend.uow(tenant) as uow:
        assert await uow.alerts.add_if_absent(first) is True
        await uow.commit()
    async with backend.uow(tenant) as uow:
        assert await uow.alerts.add_if_absent(replace(first, id="alrt_2")) is False
        assert await uow.alerts.get(tenant, "alrt_1") == first
        assert await uow.alerts.get(tenant, "alrt_2") is None
        # A different threshold, kind or window is a different alert.
        assert await uow.alerts.add_if_absent(alert(tenant, threshold=100, kind=AlertKind.EXCEEDED))
        assert await uow.alerts.add_if_absent(alert(tenant, kind=AlertKind.FORECAST))
        later = first.window_start + timedelta(days=31)
        assert await uow.alerts.add_if_absent(alert(tenant, window_start=later))
        await uow.commit()


async def test_an_uncommitted_alert_gives_its_key_back(backend: Backend) -> None:
    tenant = new_tenant()
    async with backend.uow(tenant) as uow:
        assert await uow.alerts.add_if_absent(alert(tenant))
    async with backend.uow(tenant) as uow:
        assert await uow.alerts.add_if_absent(alert(tenant))


async def test_concurrent_inserts_of_one_key_make_one_alert(backend: Backend) -> None:
    tenant = new_tenant()

    async def try_insert() -> bool:
        async with backend.uow(tenant) as uow:
            inserted = await uow.alerts.add_if_absent(alert(tenant))
            await asyncio.sleep(0.02)  # keep the transaction open while the others try
            await uow.commit()
        return inserted

    results = await asyncio.gather(*(try_insert() for _ in range(6)))
    assert sorted(results) == [False] * 5 + [True]
    async with backend.uow(tenant) as uow:
        assert len(await uow.alerts.list(tenant, AlertQuery())) == 1


async def test_list_filters_and_orders_newest_first(backend: Backend) -> None:
    tenant, other = new_tenant(), new_tenant()
    alerts = [
        alert(
            tenant,
            f"alrt_{i}",
            threshold=10 + i,
            created_at=T0 + timedelta(hours=i),
            cap_id="cap_a" if i % 2 else "cap_b",
            status=AlertStatus.SENT if i == 3 else AlertStatus.PENDING,
        )
        for i in range(5)
    ]
    async with backend.uow(tenant) as uow:
        for one in alerts:
            await uow.alerts.add_if_absent(one)
        await uow.commit()
    async with backend.uow(other) as uow:
        await uow.alerts.add_if_absent(alert(other, "alrt_other"))
        await uow.commit()
    async with backend.uow(tenant) as uow:

        def ids(found: list) -> list[str]:
            return [a.id for a in found]

        assert ids(await uow.alerts.list(tenant, AlertQuery())) == [
            f"alrt_{i}" for i in (4, 3, 2, 1, 0)
        ]
        assert ids(await uow.alerts.list(tenant, AlertQuery(limit=2))) == ["alrt_4", "alrt_3"]
        assert ids(await uow.alerts.list(tenant, AlertQuery(cap_id="cap_a"))) == [
            "alrt_3",
            "alrt_1",
        ]
        assert ids(await uow.alerts.list(tenant, AlertQuery(status=AlertStatus.SENT))) == ["alrt_3"]
        window = AlertQuery(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
        assert ids(await uow.alerts.list(tenant, window)) == ["alrt_2", "alrt_1"]
        assert await uow.alerts.get(tenant, "alrt_other") is None


async def test_claim_due_leases_due_alerts_of_every_tenant(backend: Backend) -> None:
    first, second = new_tenant(), new_tenant()
    now = T0 + timedelta(hours=1)
    async with backend.uow(first) as uow:
        await uow.alerts.add_if_absent(alert(first, "due_1", threshold=10, created_at=T0))
        await uow.alerts.add_if_absent(
            alert(first, "later", threshold=20, next_attempt_at=now + timedelta(seconds=1))
        )
        await uow.alerts.add_if_absent(alert(first, "sent", threshold=30, status=AlertStatus.SENT))
        await uow.commit()
    async with backend.uow(second) as uow:
        await uow.alerts.add_if_absent(
            alert(
                second,
                "due_2",
                threshold=10,
                created_at=T0 + timedelta(minutes=1),
                next_attempt_at=None,
            )
        )
        await uow.commit()
    async with backend.uow(None) as uow:
        claimed = await uow.alerts.claim_due(now, now + LEASE, 10)
        await uow.commit()
    assert [a.id for a in claimed] == ["due_1", "due_2"]
    async with backend.uow(None) as uow:
        assert await uow.alerts.claim_due(now, now + LEASE, 10) == [], "leased"
        await uow.commit()
    after_lease = now + LEASE
    async with backend.uow(None) as uow:
        again = await uow.alerts.claim_due(after_lease, after_lease + LEASE, 10)
        await uow.commit()
    assert [a.id for a in again] == ["due_1", "later", "due_2"]


async def test_saving_an_alert_ends_its_lease(backend: Backend) -> None:
    tenant = new_tenant()
    now = T0 + timedelta(hours=1)
    async with backend.uow(tenant) as uow:
        await uow.alerts.add_if_absent(alert(tenant, "a1"))
        await uow.commit()
    async with backend.uow(None) as uow:
        (claimed,) = await uow.alerts.claim_due(now, now + LEASE, 10)
        await uow.commit()
    failed = claimed.mark_failed("SMTP down", retry_at=now)
    async with backend.uow(tenant) as uow:
        await uow.alerts.save(failed)
        await uow.commit()
    async with backend.uow(tenant) as uow:
        assert await uow.alerts.get(tenant, "a1") == failed
    async with backend.uow(None) as uow:
        assert [a.id for a in await uow.alerts.claim_due(now, now + LEASE, 10)] == ["a1"]
        await uow.commit()
    sent = failed.mark_sent(now)
    async with backend.uow(tenant) as uow:
        await uow.alerts.save(sent)
        await uow.commit()
    async with backend.uow(None) as uow:
        assert await uow.alerts.claim_due(now + LEASE, now + 2 * LEASE, 10) == []


async def test_two_concurrent_claimers_never_share_an_alert(backend: Backend) -> None:
    tenant = new_tenant()
    now = T0 + timedelta(hours=1)
    async with backend.uow(tenant) as uow:
        for i in range(10):
            await uow.alerts.add_if_absent(
                alert(tenant, f"a{i}", threshold=i + 1, created_at=T0 + timedelta(seconds=i))
            )
        await uow.commit()

    async def claim() -> list[str]:
        async with backend.uow(None) as uow:
            claimed = await uow.alerts.claim_due(now, now + LEASE, 6)
            await asyncio.sleep(0.05)  # both claimers hold their transaction at once
            await uow.commit()
        return [a.id for a in claimed]

    first, second = await asyncio.gather(claim(), claim())
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(f"a{i}" for i in range(10))
    assert sorted([len(first), len(second)]) == [4, 6]


async def test_save_if_unchanged_lets_one_of_two_dispatchers_begin(backend: Backend) -> None:
    tenant = new_tenant()
    pending = alert(tenant, "alrt_cas")
    async with backend.uow(tenant) as uow:
        await uow.alerts.add_if_absent(pending)
        await uow.commit()

    async def begin(marker: str) -> bool:
        async with backend.uow(tenant) as uow:
            started = replace(pending, attempts=1, last_error=marker)
            if not await uow.alerts.save_if_unchanged(started, expected_attempts=0):
                return False
            await asyncio.sleep(0.05)  # hold the row while the other one tries
            await uow.commit()
            return True

    results = await asyncio.gather(begin("first"), begin("second"))
    assert sorted(results) == [False, True]
    async with backend.uow(tenant) as uow:
        stored = await uow.alerts.get(tenant, "alrt_cas")
        # A row no longer pending, or at another attempt count, is never overwritten.
        assert await uow.alerts.save_if_unchanged(replace(pending, attempts=5), 0) is False
        sent = replace(pending, attempts=1, status=AlertStatus.SENT)
        assert await uow.alerts.save_if_unchanged(sent, 1) is True
        await uow.commit()
    assert stored is not None and stored.attempts == 1
    assert stored.last_error == ("first" if results[0] else "second")
    async with backend.uow(tenant) as uow:
        assert await uow.alerts.save_if_unchanged(replace(pending, attempts=2), 1) is False
