"""Caps: stored per tenant, replaced on update, listed by id; system jobs see all enabled."""

from __future__ import annotations

from domain.caps import CapScope, Enforcement, FailPolicy
from domain.money import Money
from domain.periods import Period
from tests.contract.builders import cap, new_tenant
from tests.contract.conftest import Backend


async def test_a_cap_round_trips_every_field(backend: Backend) -> None:
    tenant = new_tenant()
    original = cap(
        tenant,
        "cap_x",
        name="Research agents",
        scope=CapScope.AGENT,
        scope_value="research",
        period=Period.WEEKLY,
        limit=Money.parse("12.345678901"),
        enforcement=Enforcement.BLOCK,
        thresholds=(25, 90, 100, 150),
        timezone="Asia/Kolkata",
        recipients=("a@example.com", "b@example.org"),
        fail_policy=FailPolicy.CLOSED,
    )
    async with backend.uow(tenant) as uow:
        await uow.caps.add(original)
        await uow.commit()
    async with backend.uow(tenant) as uow:
        assert await uow.caps.get(tenant, "cap_x") == original
        assert await uow.caps.get(tenant, "missing") is None


async def test_update_replaces_and_delete_removes(backend: Backend) -> None:
    tenant = new_tenant()
    async with backend.uow(tenant) as uow:
        await uow.caps.add(cap(tenant, "cap_1"))
        await uow.commit()
    changed = cap(tenant, "cap_1", name="Renamed", limit=Money.usd(99), enabled=False)
    async with backend.uow(tenant) as uow:
        await uow.caps.update(changed)
        await uow.commit()
    async with backend.uow(tenant) as uow:
        assert await uow.caps.get(tenant, "cap_1") == changed
        assert await uow.caps.delete(tenant, "cap_1") is True
        assert await uow.caps.delete(tenant, "cap_1") is False
        assert await uow.caps.get(tenant, "cap_1") is None
        await uow.commit()
    async with backend.uow(tenant) as uow:
        assert await uow.caps.list(tenant) == []


async def test_a_delete_without_commit_keeps_the_cap(backend: Backend) -> None:
    tenant = new_tenant()
    async with backend.uow(tenant) as uow:
        await uow.caps.add(cap(tenant, "cap_1"))
        await uow.commit()
    async with backend.uow(tenant) as uow:
        assert await uow.caps.delete(tenant, "cap_1")
    async with backend.uow(tenant) as uow:
        assert await uow.caps.get(tenant, "cap_1") is not None


async def test_list_is_per_tenant_and_sorted_by_id(backend: Backend) -> None:
    tenant, other = new_tenant(), new_tenant()
    async with backend.uow(tenant) as uow:
        for cap_id in ("cap_b", "cap_c", "cap_a"):
            await uow.caps.add(cap(tenant, cap_id))
        await uow.commit()
    async with backend.uow(other) as uow:
        await uow.caps.add(cap(other, "cap_0"))
        await uow.commit()
    async with backend.uow(tenant) as uow:
        assert [c.id for c in await uow.caps.list(tenant)] == ["cap_a", "cap_b", "cap_c"]
    async with backend.uow(other) as uow:
        assert [c.id for c in await uow.caps.list(other)] == ["cap_0"]


async def test_system_jobs_see_every_tenants_enabled_caps(backend: Backend) -> None:
    first, second = new_tenant(), new_tenant()
    async with backend.uow(first) as uow:
        await uow.caps.add(cap(first, "cap_1"))
        await uow.caps.add(cap(first, "cap_3", enabled=False))
        await uow.commit()
    async with backend.uow(second) as uow:
        await uow.caps.add(cap(second, "cap_2"))
        await uow.commit()
    async with backend.uow(None) as uow:
        enabled = await uow.caps.all_enabled()
    assert [(c.tenant_id, c.id) for c in enabled] == [(first, "cap_1"), (second, "cap_2")]
